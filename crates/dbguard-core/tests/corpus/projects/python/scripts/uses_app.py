from app.maintenance import reset

reset()
