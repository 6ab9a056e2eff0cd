from sqlalchemy import create_engine
from app.models import Base

engine = create_engine("postgresql://localhost/app")


def main():
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)


if __name__ == "__main__":
    main()
