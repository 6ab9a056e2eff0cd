const { countSessions } = require('../lib/maintenance');

countSessions().then((n) => console.log(n));
