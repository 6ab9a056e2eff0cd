const { MongoClient } = require('mongodb');

async function run() {
  const client = new MongoClient(process.env.MONGO_URL);
  await client.connect();
  await client.db('shop').collection('carts').deleteMany({ updatedAt: { $lt: new Date(Date.now() - 864e5) } });
  await client.close();
}
run();
