const knex = require('knex')(require('../knexfile').development);

(async () => {
  await knex('audit_log').truncate();
  await knex.raw('DROP TABLE IF EXISTS tmp_import');
  await knex.destroy();
})();
