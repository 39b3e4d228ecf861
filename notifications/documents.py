"""Documents a digest carries for what it chases, supplied by the apps that own them.

The ladder chases obligations of every kind alike, but some are owed on a document an
app above this one keeps (a 督办通知单's 回执: ``bulletins``). Apps depend one way, so the
owner registers a provider here when it loads (``AppConfig.ready``) and the digest asks
it once per run for all the obligations it chases of that kind."""

from collections.abc import Callable, Iterable

# Obligation ids → (stored path, file name) of the document sent along with a chase.
Provider = Callable[[list[int]], dict[int, tuple[str, str]]]

_providers: dict[str, Provider] = {}


def document_provider_register(kind: str, provider: Provider) -> None:
    _providers[kind] = provider


def documents_for(obligations: Iterable[tuple[int, str]]) -> dict[int, tuple[str, str]]:
    """The documents of the given (obligation id, kind) pairs: one call of each kind's
    provider for all its ids, none for a kind without one."""
    ids: dict[str, set[int]] = {}
    for obligation_id, kind in obligations:
        if kind in _providers:
            ids.setdefault(kind, set()).add(obligation_id)
    documents: dict[int, tuple[str, str]] = {}
    for kind, kind_ids in ids.items():
        documents.update(_providers[kind](sorted(kind_ids)))
    return documents
