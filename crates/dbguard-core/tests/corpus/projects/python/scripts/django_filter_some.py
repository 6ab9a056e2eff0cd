from accounts.models import Session

Session.objects.filter(expired=True).delete()
Session.objects.exclude(user__is_staff=True).filter(last_seen__lt=cutoff).delete()
