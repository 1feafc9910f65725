from celery import shared_task


@shared_task(name="finops_portal.ping")
def ping(payload: str = "pong") -> str:
    """Echo, to prove a worker (or the in-process fallback) runs the project's tasks."""
    return payload
