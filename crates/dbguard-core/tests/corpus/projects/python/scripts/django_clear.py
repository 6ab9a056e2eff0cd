import django

django.setup()

from shop.models import Order, Cart  # noqa: E402

Order.objects.all().delete()
Cart.objects.filter(abandoned=True).delete()
