# An agent's "clear the test users" script: filter() without arguments keeps every row.
from accounts.models import User, Session

Session.objects.filter().delete()
