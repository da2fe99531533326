"""End-to-end tests of the pytest plugin: inertness, provider resolution, options and collection."""

from __future__ import annotations

import sys

import pytest

PROBE = """
import json, pytest

def test_probe(chatmodels_subject, chatmodels_provider_metadata, chatmodels_settings):
    print("PROBE " + json.dumps({
        "name": chatmodels_provider_metadata.name,
        "source": chatmodels_subject.source,
        "options": chatmodels_subject.options,
        "model": chatmodels_subject.model,
    }))
"""

CUSTOM_PROVIDER = """
import pytest
from chatmodels.providers.reference import ReferenceProvider
from chatmodels.provider import ProviderMetadata
from chatmodels.registry import register_global
import dataclasses

class CustomProvider(ReferenceProvider):
    metadata = dataclasses.replace(ReferenceProvider.metadata, name="custom")

register_global("custom", CustomProvider, replace=True)
"""


def _probe(result: pytest.RunResult) -> dict[str, object]:
    import json

    for line in result.outlines:
        if "PROBE " in line:
            return dict(json.loads(line.split("PROBE ", 1)[1]))
    raise AssertionError("probe test printed nothing:\n" + result.stdout.str())


def _run_probe(pytester: pytest.Pytester, *args: str) -> dict[str, object]:
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest(
        "--chatmodels-conformance",
        "test_probe.py",
        "-k",
        "probe",
        "-s",
        "-p",
        "no:cacheprovider",
        *args,
    )
    assert result.ret == 0, result.stdout.str()
    return _probe(result)


class TestInert:
    def test_without_flag_collects_only_the_authors_tests(self, pytester: pytest.Pytester) -> None:
        """Without the flag no suite test is collected and no report folder appears."""
        pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
        assert not (pytester.path / "reports").exists()
        assert "suite_" not in result.stdout.str()

    def test_loading_the_plugin_imports_nothing_heavy(self, pytester: pytest.Pytester) -> None:
        """Without the flag, the plugin pulls in no OTel SDK, jinja2, hypothesis or HTTP stack."""
        pytester.makeconftest(
            """
            import sys
            def pytest_sessionfinish(session):
                heavy = ["opentelemetry.sdk", "jinja2", "aiohttp", "httpx",
                         "chatmodels.conformance.session", "chatmodels.conformance.fixtures"]
                print("LOADED", [m for m in heavy if m in sys.modules])
            """
        )
        pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
        result = pytester.runpytest_subprocess(
            "-s",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-p",
            "no:benchmark",
            "-p",
            "no:hypothesispytest",
            # langsmith (pulled in by the dev extra's langchain-core) loads the OTel SDK itself.
            "-p",
            "no:langsmith_plugin",
        )
        result.stdout.fnmatch_lines(["*LOADED []*"])

    def test_markers_are_registered_for_strict_markers(self, pytester: pytest.Pytester) -> None:
        """Authors can use the requirement and capability markers under --strict-markers."""
        pytester.makepyfile(
            test_mine="""
            import pytest
            @pytest.mark.requirement("CORE-001")
            @pytest.mark.capability("tools")
            def test_mine():
                pass
            """
        )
        result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)

    def test_help_lists_the_options(self, pytester: pytest.Pytester) -> None:
        """``pytest --help`` documents every --chatmodels option in one group."""
        result = pytester.runpytest("--help")
        result.stdout.fnmatch_lines(
            [
                "*chat-model provider conformance*",
                "*--chatmodels-conformance*",
                "*--chatmodels-provider=NAME*",
                "*--chatmodels-option=KEY=VALUE*",
                "*--chatmodels-report=DIR*",
                "*--chatmodels-expectations=PATH*",
            ]
        )


class TestProviderResolution:
    def test_default_is_the_reference(self, pytester: pytest.Pytester) -> None:
        """With nothing configured the bundled reference provider is tested."""
        probe = _run_probe(pytester)
        assert probe["name"] == "reference"
        assert probe["source"] == "default"

    def test_fixture_override_beats_the_default(self, pytester: pytest.Pytester) -> None:
        """A chatmodels_provider fixture in conftest.py chooses the provider."""
        pytester.makeconftest(
            CUSTOM_PROVIDER + "\n@pytest.fixture(scope='session')\ndef chatmodels_provider():\n"
            "    return CustomProvider\n"
        )
        probe = _run_probe(pytester)
        assert (probe["name"], probe["source"]) == ("custom", "fixture")

    def test_ini_beats_the_fixture(self, pytester: pytest.Pytester) -> None:
        """The chatmodels_provider ini key wins over a fixture override."""
        pytester.makeconftest(
            CUSTOM_PROVIDER + "\n@pytest.fixture(scope='session')\ndef chatmodels_provider():\n"
            "    return CustomProvider({})\n"
        )
        pytester.makeini("[pytest]\nchatmodels_provider = reference\n")
        probe = _run_probe(pytester)
        assert (probe["name"], probe["source"]) == ("reference", "option")

    def test_option_beats_the_ini(self, pytester: pytest.Pytester) -> None:
        """--chatmodels-provider wins over the ini key."""
        pytester.makeconftest(CUSTOM_PROVIDER)
        pytester.makeini("[pytest]\nchatmodels_provider = reference\n")
        probe = _run_probe(pytester, "--chatmodels-provider", "custom")
        assert probe["name"] == "custom"

    def test_unknown_provider_is_a_usage_error_listing_installed(
        self, pytester: pytest.Pytester
    ) -> None:
        """An unknown name exits 4 and lists the installed providers."""
        result = pytester.runpytest("--chatmodels-conformance", "--chatmodels-provider", "nope")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*unknown chat-model provider 'nope'*installed*reference*"])

    def test_bad_provider_option_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        """An option the provider rejects exits 4 naming the option."""
        result = pytester.runpytest(
            "--chatmodels-conformance", "--chatmodels-option", "latency=soon"
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert "latency" in result.stdout.str() + result.stderr.str()


class TestOptions:
    def test_options_from_ini_and_command_line_merge(self, pytester: pytest.Pytester) -> None:
        """Command-line options override ini options key by key."""
        pytester.makeini("[pytest]\nchatmodels_options =\n    latency=0.002\n    chunk_tokens=3\n")
        probe = _run_probe(pytester, "--chatmodels-option", "latency=0")
        assert probe["options"] == {"latency": "0", "chunk_tokens": "3"}

    def test_env_values_are_read_from_the_environment(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A value env:NAME is replaced by that environment variable."""
        monkeypatch.setenv("CHATMODELS_TEST_LATENCY", "0.001")
        probe = _run_probe(pytester, "--chatmodels-option", "latency=env:CHATMODELS_TEST_LATENCY")
        assert probe["options"] == {"latency": "0.001"}

    def test_missing_env_variable_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        """An env:NAME whose variable is unset exits 4 naming the variable."""
        result = pytester.runpytest(
            "--chatmodels-conformance", "--chatmodels-option", "api_key=env:CHATMODELS_UNSET_VAR"
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*CHATMODELS_UNSET_VAR*not set*"])

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--chatmodels-option", "novalue"], "*expected KEY=VALUE, got 'novalue'*"),
            (["--chatmodels-suite", "speed"], "*expected suite names among*got 'speed'*"),
            (["--chatmodels-setting", "bogus=1"], "*unknown setting 'bogus'*"),
            (
                ["--chatmodels-setting", "otel_semconv=0.1.0"],
                "*'otel_semconv' must be one of ?'semconv-1.41.1', 'genai-0.1.0'?, got '0.1.0'*",
            ),
            (["--chatmodels-requirements", "NOPE-001"], "*unknown*NOPE-001*"),
        ],
    )
    def test_bad_values_name_what_was_expected(
        self, pytester: pytest.Pytester, args: list[str], message: str
    ) -> None:
        """Malformed option values exit 4 with the bad value and the expected form."""
        result = pytester.runpytest("--chatmodels-conformance", *args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([message])


class TestCollection:
    def test_suites_are_collected_in_an_empty_directory(self, pytester: pytest.Pytester) -> None:
        """The shipped suites are collected from the installed package, not the cwd."""
        result = pytester.runpytest(
            "--chatmodels-conformance", "--co", "-q", "-p", "no:cacheprovider"
        )
        assert result.ret == 0, result.stdout.str()
        assert any(line.startswith("suite_") for line in result.outlines)

    def test_authors_tests_run_only_when_named(self, pytester: pytest.Pytester) -> None:
        """An author's own test files are not run by the flag unless passed as arguments."""
        pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
        result = pytester.runpytest(
            "--chatmodels-conformance", "--co", "-q", "-p", "no:cacheprovider"
        )
        assert "test_mine.py::test_mine" not in result.stdout.str()
        named = pytester.runpytest(
            "--chatmodels-conformance", "test_mine.py", "--co", "-q", "-p", "no:cacheprovider"
        )
        assert "test_mine.py::test_mine" in named.stdout.str()

    def test_suite_selection_keeps_only_that_suite(self, pytester: pytest.Pytester) -> None:
        """--chatmodels-suite deselects the other suites' modules."""
        result = pytester.runpytest(
            "--chatmodels-conformance",
            "--chatmodels-suite",
            "contract",
            "--co",
            "-q",
            "-p",
            "no:cacheprovider",
        )
        modules = {line.split("::")[0] for line in result.outlines if line.startswith("suite_")}
        assert modules, result.stdout.str()
        assert all(m.startswith("suite_contract") for m in modules)


@pytest.mark.skipif(sys.platform != "linux", reason="uses the Linux /proc layout")
def test_conftest_fixture_returning_a_chat_model_is_accepted(pytester: pytest.Pytester) -> None:
    """A conftest may return a single ChatModel instance; the suite uses it as the shared model."""
    pytester.makeconftest(
        """
        import pytest
        from chatmodels.providers.reference import ReferenceProvider

        @pytest.fixture(scope="session")
        def chatmodels_provider():
            return ReferenceProvider({"latency": "0"}).create_chat_model()
        """
    )
    probe = _run_probe(pytester)
    assert probe["source"] == "fixture"
    assert probe["name"] == "reference"
