exports.seed = async function (knex) {
  await knex('countries').insert([{ code: 'FR' }, { code: 'DE' }]).onConflict('code').ignore();
};
