const { MongoClient } = require('mongodb');

async function run() {
  const client = new MongoClient(process.env.MONGO_URL);
  await client.connect();
  const db = client.db('shop');
  await db.collection('carts').deleteMany({});
  await db.collection('events').drop();
  await client.close();
}
run();
