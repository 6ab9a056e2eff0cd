// Runs whatever SQL file is given on the command line.
const fs = require('fs');
const { Client } = require('pg');

(async () => {
  const client = new Client();
  await client.connect();
  const text = fs.readFileSync(process.argv[2], 'utf8');
  await client.query(text);
  await client.end();
})();
