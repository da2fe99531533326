"""Declared, not assumed: capabilities and call defaults of the bundled openai provider."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chatmodels import Capability, InvalidConfigError
from chatmodels.conformance.faults import FaultServer
from chatmodels.providers.openai import OpenAIProvider


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _provider(server: FaultServer, **options: str) -> OpenAIProvider:
    return OpenAIProvider({"base_url": server.url, "model": "reference-echo", **options})


class TestCapabilities:
    def test_signed_names_withdraw_features(self, server: FaultServer) -> None:
        """capabilities=-tools,-json_mode removes exactly those from what is declared."""
        full = _provider(server).metadata.capabilities
        fewer = _provider(server, capabilities="-tools,-json_mode").metadata.capabilities
        assert full - fewer == {Capability.TOOLS, Capability.JSON_MODE}

    def test_a_plain_list_is_taken_as_is(self, server: FaultServer) -> None:
        """An unsigned list declares exactly the named capabilities."""
        meta = _provider(server, capabilities="streaming, openai_compatible").metadata
        assert meta.capabilities == {Capability.STREAMING, Capability.OPENAI_COMPATIBLE}

    @pytest.mark.parametrize("value", ["tools,-json_mode", "-telepathy"])
    def test_bad_lists_name_the_problem(self, server: FaultServer, value: str) -> None:
        """Mixed signs or an unknown name is a config error naming the option."""
        with pytest.raises(InvalidConfigError, match="capabilities"):
            _provider(server, capabilities=value)


class TestCallDefaults:
    def test_defaults_reach_the_request_and_calls_override_them(self, server: FaultServer) -> None:
        """default.temperature and default.max_tokens are sent unless a call sets its own."""
        server.reset_log()
        with _provider(
            server, **{"default.temperature": "0", "default.max_tokens": "64"}
        ).create_chat_model() as model:
            model.invoke("hi")
            model.invoke("hi", {"max_tokens": 5})
        bodies = [r.body for r in server.requests if r.method == "POST"]
        assert [(b["temperature"], b["max_tokens"]) for b in bodies] == [(0.0, 64), (0.0, 5)]

    def test_a_bad_default_names_the_option(self, server: FaultServer) -> None:
        """A default the options would refuse is a config error naming default.<field>."""
        with pytest.raises(InvalidConfigError, match=r"default\.temperature"):
            _provider(server, **{"default.temperature": "hot"})


class TestHeaders:
    def test_extra_headers_are_sent(self, server: FaultServer) -> None:
        """headers=Name:Value lines are sent on every request; the fault header drives faults."""
        with (
            _provider(
                server, headers="X-Chatmodels-Fault:status;status=418", max_retries="0"
            ).create_chat_model() as model,
            pytest.raises(Exception, match="418"),
        ):
            model.invoke("hi")

    def test_bad_header_lines_are_refused(self, server: FaultServer) -> None:
        """A line without a colon is a config error that shows the expected form."""
        with pytest.raises(InvalidConfigError, match="Name:Value"):
            _provider(server, headers="no colon here")

    def test_secret_header_values_stay_out_of_the_report(
        self, pytester: pytest.Pytester, server: FaultServer
    ) -> None:
        """A header whose name looks secret is written as *** in the report's options."""
        pytester.makeini(
            "[pytest]\nchatmodels_options =\n"
            f"    base_url={server.url}\n"
            "    model=reference-echo\n"
            "    headers=X-Trace:visible\n"
            "    headers=X-Api-Key:hidden-sekrit\n"
        )
        pytester.runpytest_subprocess(
            "--chatmodels-conformance",
            "--chatmodels-provider=openai",
            "--chatmodels-requirements=WIRE-001",
            "--chatmodels-report=out",
            "-p",
            "no:cacheprovider",
        )
        report = (pytester.path / "out" / "chatmodels-conformance.json").read_text()
        assert "hidden-sekrit" not in report
        options = json.loads(report)["options"]
        assert options["headers"] == "X-Trace:visible\nX-Api-Key:***"


class TestProfile:
    def test_real_model_profile_sizes_the_run_and_is_recorded(
        self, pytester: pytest.Pytester, server: FaultServer
    ) -> None:
        """The profile's settings and provider defaults apply under the user's, and the report
        names the profile."""
        pytester.runpytest_subprocess(
            "--chatmodels-conformance",
            "--chatmodels-provider=openai",
            f"--chatmodels-option=base_url={server.url}",
            "--chatmodels-option=model=reference-echo",
            "--chatmodels-option=default.max_tokens=7",
            "--chatmodels-profile=real-model",
            "--chatmodels-requirements=WIRE-001",
            "--chatmodels-report=out",
            "-p",
            "no:cacheprovider",
        )
        report = json.loads((pytester.path / "out" / "chatmodels-conformance.json").read_text())
        assert report["run"]["profile"] == "real-model"
        assert report["options"]["default.max_tokens"] == "7"
        assert report["options"]["default.temperature"] == "0"

    def test_unknown_profile_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        """An unknown profile name stops the run and lists the known ones."""
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-profile=fast", "-p", "no:cacheprovider"
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*unknown profile 'fast'*real-model*"])
