"use strict";
const express = require("express");
const db = require("../lib/db");
const app = express();

app.get("/orders", async (req, res) => {
  const { rows } = await db.query("SELECT * FROM orders WHERE customer_id = $1", [req.query.c]);
  res.json(rows);
});

// An admin endpoint: runs when someone calls it, not when the server starts.
app.delete("/admin/sessions", async (req, res) => {
  await db.query("DELETE FROM sessions");
  res.sendStatus(204);
});

app.listen(process.env.PORT || 3000, () => console.log("listening"));
