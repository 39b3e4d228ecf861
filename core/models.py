from django.db import models


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("History rows cannot be changed.")

    def delete(self):
        raise AppendOnlyError("History rows cannot be deleted.")


class AppendOnlyModel(models.Model):
    """A row that is inserted once and never changed or deleted.

    The ORM refuses here; on PostgreSQL a trigger (see the migrations) refuses too, so a
    raw UPDATE or DELETE cannot rewrite history either.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("History rows cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("History rows cannot be deleted.")


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, replayed on a retry."""

    key = models.CharField(max_length=255)
    # Who sent it: a retry by another caller with the same key is a different request.
    principal = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key"),
        ]
        indexes = [
            # The purge finds the records past their retention without reading the others.
            models.Index(fields=["created_at"], name="idempotency_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
