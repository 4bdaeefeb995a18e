"""Background polls go through the Django Tasks API whatever the backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import override_settings

from tests.conftest import REDIS_URL
from tests.fakes import PagedConnector, item
from veilleur.connectors import registry
from veilleur.monitoring.models import Mention, Source
from veilleur.monitoring.tasks import poll_source_task

pytestmark = pytest.mark.storage
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def source(acme, monkeypatch):
    monkeypatch.setitem(registry.KINDS, "paged", "tests.fakes:PagedConnector")
    monkeypatch.setattr(PagedConnector, "ITEMS", [item(n) for n in range(1, 4)])
    return Source.objects.create(workspace=acme, name="feed", kind="paged", config={"page": 10})


def test_the_default_backend_polls_in_process(source):
    result = poll_source_task.enqueue(source.pk)
    assert result.status == "SUCCESSFUL"
    assert result.return_value["stored"] == 3
    assert Mention.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_queues_until_a_worker_runs(source):
    from django_tasks_db.models import DBTaskResult

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        result = poll_source_task.enqueue(source.pk)
        assert Mention.objects.count() == 0  # queued, not run
        job = DBTaskResult.objects.get(id=result.id)
        assert job.status == "READY"
        from django.core.management import call_command

        call_command("db_worker", batch=True, interval=0, verbosity=0)
        assert Mention.objects.count() == 3
        assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_redis_backend_runs_polls_in_an_rq_worker(source):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    settings = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": REDIS_URL}},
    }
    with override_settings(**settings):
        queue = django_rq.get_queue("default", job_class=Job)
        queue.connection.flushdb()
        result = poll_source_task.enqueue(source.pk)
        assert queue.count == 1 and Mention.objects.count() == 0
        worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
        assert worker.work(burst=True)
        assert Mention.objects.count() == 3
        result.refresh()
        assert result.status == "SUCCESSFUL" and result.return_value["stored"] == 3
        queue.connection.flushdb()
