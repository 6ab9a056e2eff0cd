from flask import Flask
from app.db import db

app = Flask(__name__)


@app.route("/admin/reset", methods=["POST"])
def reset():
    db.session.execute(db.text("TRUNCATE users"))
    return "ok"


if __name__ == "__main__":
    app.run()
