from rest_framework.routers import SimpleRouter

from .views import FrameworkViewSet

router = SimpleRouter()
router.register("frameworks", FrameworkViewSet, basename="framework")

urlpatterns = router.urls
