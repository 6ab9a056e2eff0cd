const knex = require('knex')(require('../knexfile').development);

async function main() {
  await knex('sessions').where('expires_at', '<', knex.fn.now()).del();
  await knex.destroy();
}
main();
