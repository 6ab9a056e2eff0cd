const { wipeSessions } = require('../lib/maintenance');

wipeSessions().then(() => console.log('done'));
