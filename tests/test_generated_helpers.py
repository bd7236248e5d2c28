"""The embeddings_utils helpers rebuilt from templates/helpers compute what openai v0's did."""

import math

import pytest

from migrator.templating import render

np = pytest.importorskip("numpy")
NAMES = {"cosine_similarity", "distances_from_embeddings", "indices_of_nearest_neighbors_from_distances",
         "get_embedding", "get_embeddings"}


class FakeEmbeddings:
    """Stands in for client.embeddings."""

    def __init__(self):
        self.calls = []

    def create(self, input, model, **kwargs):
        from types import SimpleNamespace

        self.calls.append((input, model))
        rows = [SimpleNamespace(index=i, embedding=[float(len(t)), float(i)]) for i, t in enumerate(input)]
        return SimpleNamespace(data=rows)


@pytest.fixture
def helpers():
    from types import SimpleNamespace
    from typing import Any

    client = SimpleNamespace(embeddings=FakeEmbeddings())
    namespace = {"np": np, "Any": Any, "client": client}
    code = render("helpers/embeddings_utils.py.j2", names=NAMES, client="client", aclient="aclient", np="np")
    exec(compile(code, "embeddings_utils_helpers.py", "exec"), namespace)  # noqa: S102 - the generated code under test
    return SimpleNamespace(client=client, **{n: namespace[n] for n in NAMES})


def test_cosine_similarity_is_v0s_formula(helpers):
    a, b = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]
    assert helpers.cosine_similarity(a, b) == pytest.approx(10 / 14)
    assert isinstance(helpers.cosine_similarity(a, b), np.floating)  # v0 returned numpy's float too


@pytest.mark.parametrize("metric", ["cosine", "L1", "L2", "Linf"])
def test_distances_match_scipy(helpers, metric):
    spatial = pytest.importorskip("scipy.spatial")
    reference = {"cosine": spatial.distance.cosine, "L1": spatial.distance.cityblock,
                 "L2": spatial.distance.euclidean, "Linf": spatial.distance.chebyshev}[metric]
    query, rows = [0.3, -1.0, 2.0], [[1.0, 0.0, 0.5], [-2.0, 1.0, 0.0], [0.3, -1.0, 2.0]]
    got = helpers.distances_from_embeddings(query, rows, distance_metric=metric)
    assert got == pytest.approx([reference(query, r) for r in rows])
    assert all(isinstance(d, float) for d in got)
    assert math.isclose(got[2], 0, abs_tol=1e-9)
    assert int(helpers.indices_of_nearest_neighbors_from_distances(got)[0]) == 2


def test_get_embeddings_replaces_newlines_and_names_the_model(helpers):
    assert helpers.get_embeddings(["a\nb", "ccc"], engine="m") == [[3.0, 0.0], [3.0, 1.0]]
    assert helpers.client.embeddings.calls == [(["a b", "ccc"], "m")]
    assert helpers.get_embedding("x\ny") == [3.0, 0.0]
    assert helpers.client.embeddings.calls[-1] == (["x y"], "text-embedding-3-small")
