from app.maintenance import count

print(count())
