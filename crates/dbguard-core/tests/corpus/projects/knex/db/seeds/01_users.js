/**
 * @param { import("knex").Knex } knex
 */
exports.seed = async function (knex) {
  // Deletes ALL existing entries
  await knex('users').del();
  await knex('users').insert([{ id: 1, email: 'a@example.com' }]);
};
