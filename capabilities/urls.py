app_name = "capabilities"

urlpatterns: list = []
