"""The catalog's facts about the current SDK hold for the installed openai."""

import inspect

import pytest

from migrator.rules.openai_v0.catalog import CURRENT_PARAMS, ERROR_CATCH, ERRORS

openai = pytest.importorskip("openai")


@pytest.mark.parametrize("path", sorted(CURRENT_PARAMS))
def test_current_params_match_the_installed_signature(path):
    method = openai.OpenAI(api_key="x")
    for part in path.split("."):
        method = getattr(method, part)
    params = {
        name for name, p in inspect.signature(method).parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }
    assert CURRENT_PARAMS[path] == params


@pytest.mark.parametrize("legacy", sorted(ERROR_CATCH))
def test_catch_tuples_are_disjoint_status_errors(legacy):
    """What replaces a v0 class where it is caught never includes the base classes that would widen it."""
    classes = [getattr(openai, name) for name in ERROR_CATCH[legacy]]
    assert ERRORS[legacy][0] == ERROR_CATCH[legacy][0]
    for cls in classes:
        assert issubclass(cls, openai.APIStatusError) and cls is not openai.APIStatusError
    for a in classes:
        for b in classes:
            assert a is b or not issubclass(a, b)


def test_every_current_error_name_exists():
    for current, _ in ERRORS.values():
        if current:
            assert isinstance(getattr(openai, current), type)
