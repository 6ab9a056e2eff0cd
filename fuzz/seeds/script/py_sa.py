from sqlalchemy import delete, text
from app.db import SessionLocal
from app.models import User, Event


def purge():
    with SessionLocal() as session:
        session.query(Event).delete()
        session.execute(delete(User).where(User.active.is_(False)))
        session.execute(text("SELECT 1"))
        session.commit()


purge()
