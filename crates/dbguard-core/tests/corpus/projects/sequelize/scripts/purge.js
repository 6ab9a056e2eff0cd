const { Session, Event } = require('../models');

async function main() {
  await Session.destroy({ truncate: true });
  await Event.destroy({ where: { kind: 'debug' } });
}
main();
