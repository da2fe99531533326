"""Option hygiene: ini keys parse like their flags, and kit options need the conformance flag."""

from __future__ import annotations

import pytest

FLAG = "--chatmodels-conformance"


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        (
            "chatmodels_suites = contract,bogus",
            "*ini chatmodels_suites: expected suite names among*got 'contract,bogus'*",
        ),
        ("chatmodels_options =\n    novalue", "*ini chatmodels_options: expected KEY=VALUE*"),
        ("chatmodels_settings =\n    =1", "*ini chatmodels_settings: expected KEY=VALUE*"),
        (
            "chatmodels_requirements = CORE_1",
            "*ini chatmodels_requirements: expected requirement IDs like*got 'CORE_1'*",
        ),
        ("chatmodels_requirements = NOPE-001", "*chatmodels_requirements: unknown*NOPE-001*"),
    ],
)
def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester, ini: str, message: str) -> None:
    """A bad ini value exits 4 naming the key and what was expected, never an INTERNALERROR."""
    pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest(FLAG, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([message])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def _collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_requirements_ini_key_selects_requirements(pytester: pytest.Pytester) -> None:
    """chatmodels_requirements in the ini selects like the flag; the flag wins over it."""
    pytester.makeini("[pytest]\nchatmodels_requirements = HEALTH-001\n")
    from_ini = pytester.runpytest(FLAG, "--collect-only", "-q", "-p", "no:cacheprovider")
    nodes = _collected(from_ini)
    assert nodes, from_ini.stdout.str()
    assert all("test_health_check" in n for n in nodes), nodes
    from_flag = pytester.runpytest(
        FLAG,
        "--chatmodels-requirements",
        "CORE-001",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
    )
    nodes = _collected(from_flag)
    assert nodes, from_flag.stdout.str()
    assert not any("test_health_check" in n for n in nodes), nodes


@pytest.mark.parametrize(
    "args",
    [
        ["--chatmodels-provider", "openai"],
        ["--chatmodels-model", "m"],
        ["--chatmodels-option", "api_key=x"],
        ["--chatmodels-setting", "conc_seed=1"],
        ["--chatmodels-suite", "contract"],
        ["--chatmodels-requirements", "CORE-001"],
        ["--chatmodels-report", "out"],
        ["--chatmodels-expectations", "exp.toml"],
    ],
)
def test_kit_option_without_the_flag_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    """A --chatmodels-* option without --chatmodels-conformance exits 4 saying so."""
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"*{FLAG} is needed by {args[0]}*"])


def test_ini_keys_without_the_flag_stay_inert(pytester: pytest.Pytester) -> None:
    """Kit ini keys in a project's config do not disturb its own runs without the flag."""
    pytester.makeini(
        "[pytest]\nchatmodels_provider = openai\nchatmodels_suites = contract\n"
        "chatmodels_requirements = CORE-001\n"
    )
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
