"""The OpenTelemetry GenAI semantic conventions this library emits, as typed data tables.

Two editions, each a ``Profile`` in ``PROFILES``: semantic-conventions v1.41.1 (the default,
the module-level names below) and semantic-conventions-genai v0.1.0 (the conventions' own
repository; see the "profiles" section). The instrumentation in ``telemetry.py`` and the
conformance kit's telemetry suite both read names, units, descriptions and bucket
boundaries from here, so a provider is checked against exactly what the library emits.

Provenance of the streaming entries (verified against the published conventions):

- ``gen_ai.client.operation.time_to_first_chunk`` and
  ``gen_ai.client.operation.time_per_output_chunk`` were added by
  open-telemetry/semantic-conventions#3377 (v1.40.0) and are part of v1.41.1; both are
  Recommended, reported for streaming calls only, with the same advisory boundaries as
  ``gen_ai.client.operation.duration``.
- ``gen_ai.request.stream`` and ``gen_ai.response.time_to_first_chunk`` (seconds) were
  added to the inference span by open-telemetry/semantic-conventions#3607 (v1.41.0).

Where v1.41.1 is silent, the choice made here is marked "not defined by v1.41.1".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

__all__ = [
    "ATTRIBUTES",
    "DEFAULT_PROFILE",
    "DURATION_BOUNDARIES",
    "ERROR_TYPE",
    "ERROR_TYPE_CANCELLED",
    "ERROR_TYPE_OTHER",
    "GENAI_0_1_0",
    "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_OUTPUT_MESSAGES",
    "GEN_AI_OUTPUT_TYPE",
    "GEN_AI_PROVIDER_NAME",
    "GEN_AI_REQUEST_CHOICE_COUNT",
    "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_MODEL",
    "GEN_AI_REQUEST_SEED",
    "GEN_AI_REQUEST_STOP_SEQUENCES",
    "GEN_AI_REQUEST_STREAM",
    "GEN_AI_REQUEST_TEMPERATURE",
    "GEN_AI_REQUEST_TOP_P",
    "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_RESPONSE_ID",
    "GEN_AI_RESPONSE_MODEL",
    "GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK",
    "GEN_AI_TOKEN_MODALITY",
    "GEN_AI_TOKEN_TYPE",
    "GEN_AI_USAGE_INPUT_TOKENS",
    "GEN_AI_USAGE_OUTPUT_TOKENS",
    "INSTRUMENTATION_SCOPE",
    "METRICS",
    "METRIC_OPERATION_DURATION",
    "METRIC_TIME_PER_OUTPUT_CHUNK",
    "METRIC_TIME_TO_FIRST_CHUNK",
    "METRIC_TOKEN_USAGE",
    "OPERATION_CHAT",
    "OUTPUT_TYPE_JSON",
    "OUTPUT_TYPE_TEXT",
    "PROFILES",
    "SCHEMA_URL",
    "SEMCONV_1_41_1",
    "SEMCONV_VERSION",
    "SERVER_ADDRESS",
    "SERVER_PORT",
    "SPAN_KIND",
    "SPAN_NAME_FORMAT",
    "TOKEN_BOUNDARIES",
    "TOKEN_MODALITY_UNKNOWN",
    "TOKEN_TYPE_INPUT",
    "TOKEN_TYPE_OUTPUT",
    "AttributeSpec",
    "MetricSpec",
    "Profile",
    "Requirement",
    "TokenMetric",
    "profile_named",
    "span_name",
]

SEMCONV_VERSION = "1.41.1"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
#: The instrumentation scope name; fixed, so telemetry does not move when modules do.
INSTRUMENTATION_SCOPE = "chatmodels"

# -- span shape ------------------------------------------------------------------------

#: ``{gen_ai.operation.name} {gen_ai.request.model}``.
SPAN_NAME_FORMAT = "{operation} {model}"
#: The OTel SpanKind name of inference spans (``opentelemetry.trace.SpanKind.CLIENT``).
SPAN_KIND = "CLIENT"

OPERATION_CHAT = "chat"
OUTPUT_TYPE_TEXT = "text"
OUTPUT_TYPE_JSON = "json"
TOKEN_TYPE_INPUT = "input"
TOKEN_TYPE_OUTPUT = "output"
#: ``gen_ai.token.modality`` when usage is not broken down by modality (genai v0.1.0).
TOKEN_MODALITY_UNKNOWN = "unknown"
#: The stable fallback value of ``error.type``.
ERROR_TYPE_OTHER = "_OTHER"
#: ``error.type`` when the caller cancelled the call or closed a stream early. Not defined by
#: v1.41.1; chosen to equal ``ErrorCode.CANCELLED`` so cancellations group with each other.
ERROR_TYPE_CANCELLED = "cancelled"

# -- attribute names -------------------------------------------------------------------

GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
GEN_AI_TOKEN_MODALITY = "gen_ai.token.modality"
ERROR_TYPE = "error.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"


class Requirement(str, enum.Enum):
    """The requirement level a convention gives an attribute."""

    REQUIRED = "required"
    CONDITIONALLY_REQUIRED = "conditionally_required"
    RECOMMENDED = "recommended"
    OPT_IN = "opt_in"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One span attribute of the inference span: its key, value type and requirement level."""

    name: str
    type: str
    requirement: Requirement
    brief: str


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric instrument: the values passed to ``Meter.create_*`` and its attributes.

    *instrument* is ``"histogram"`` or ``"counter"``; a counter has no *boundaries*.
    """

    name: str
    instrument: str
    unit: str
    description: str
    boundaries: tuple[float, ...]
    required_attributes: tuple[str, ...]
    streaming_only: bool = False


_R = Requirement

#: The inference-span attributes this library emits, in the order the conventions list them.
ATTRIBUTES: tuple[AttributeSpec, ...] = (
    AttributeSpec(GEN_AI_OPERATION_NAME, "string", _R.REQUIRED, "The operation; always 'chat'."),
    AttributeSpec(GEN_AI_PROVIDER_NAME, "string", _R.REQUIRED, "ProviderMetadata.name."),
    AttributeSpec(ERROR_TYPE, "string", _R.CONDITIONALLY_REQUIRED, "Set when the call failed."),
    AttributeSpec(GEN_AI_OUTPUT_TYPE, "string", _R.CONDITIONALLY_REQUIRED, "'text' or 'json'."),
    AttributeSpec(GEN_AI_REQUEST_CHOICE_COUNT, "int", _R.CONDITIONALLY_REQUIRED, "Only when != 1."),
    AttributeSpec(GEN_AI_REQUEST_MODEL, "string", _R.CONDITIONALLY_REQUIRED, "The model asked."),
    AttributeSpec(GEN_AI_REQUEST_SEED, "int", _R.CONDITIONALLY_REQUIRED, "When a seed is set."),
    AttributeSpec(
        GEN_AI_REQUEST_STREAM, "boolean", _R.CONDITIONALLY_REQUIRED, "True on stream calls."
    ),
    AttributeSpec(SERVER_PORT, "int", _R.CONDITIONALLY_REQUIRED, "When server.address is set."),
    AttributeSpec(GEN_AI_REQUEST_MAX_TOKENS, "int", _R.RECOMMENDED, "When set."),
    AttributeSpec(GEN_AI_REQUEST_STOP_SEQUENCES, "string[]", _R.RECOMMENDED, "When set."),
    AttributeSpec(GEN_AI_REQUEST_TEMPERATURE, "double", _R.RECOMMENDED, "When set."),
    AttributeSpec(GEN_AI_REQUEST_TOP_P, "double", _R.RECOMMENDED, "When set."),
    AttributeSpec(GEN_AI_RESPONSE_FINISH_REASONS, "string[]", _R.RECOMMENDED, "One per choice."),
    AttributeSpec(GEN_AI_RESPONSE_ID, "string", _R.RECOMMENDED, "The completion id."),
    AttributeSpec(GEN_AI_RESPONSE_MODEL, "string", _R.RECOMMENDED, "The model that answered."),
    AttributeSpec(
        GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, "double", _R.RECOMMENDED, "Seconds; streams only."
    ),
    AttributeSpec(GEN_AI_USAGE_INPUT_TOKENS, "int", _R.RECOMMENDED, "Prompt tokens."),
    AttributeSpec(GEN_AI_USAGE_OUTPUT_TOKENS, "int", _R.RECOMMENDED, "Completion tokens."),
    AttributeSpec(SERVER_ADDRESS, "string", _R.RECOMMENDED, "When the model exposes it."),
    AttributeSpec(GEN_AI_INPUT_MESSAGES, "any", _R.OPT_IN, "JSON; only with capture_content."),
    AttributeSpec(GEN_AI_OUTPUT_MESSAGES, "any", _R.OPT_IN, "JSON; only with capture_content."),
)

# -- metrics ---------------------------------------------------------------------------

#: Advisory boundaries, in seconds, of every client timing histogram.
DURATION_BOUNDARIES: tuple[float, ...] = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
#: Advisory boundaries, in tokens, of ``gen_ai.client.token.usage``.
TOKEN_BOUNDARIES: tuple[float, ...] = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

_BASE_METRIC_ATTRIBUTES = (GEN_AI_OPERATION_NAME, GEN_AI_PROVIDER_NAME)

METRIC_OPERATION_DURATION = MetricSpec(
    name="gen_ai.client.operation.duration",
    instrument="histogram",
    unit="s",
    description="GenAI operation duration.",
    boundaries=DURATION_BOUNDARIES,
    required_attributes=_BASE_METRIC_ATTRIBUTES,
)
METRIC_TOKEN_USAGE = MetricSpec(
    name="gen_ai.client.token.usage",
    instrument="histogram",
    unit="{token}",
    description="Number of input and output tokens used.",
    boundaries=TOKEN_BOUNDARIES,
    required_attributes=(*_BASE_METRIC_ATTRIBUTES, GEN_AI_TOKEN_TYPE),
)
METRIC_TIME_TO_FIRST_CHUNK = MetricSpec(
    name="gen_ai.client.operation.time_to_first_chunk",
    instrument="histogram",
    unit="s",
    description=(
        "Time to receive the first chunk, measured from when the client issues the generation "
        "request to when the first chunk is received in the response stream."
    ),
    boundaries=DURATION_BOUNDARIES,
    required_attributes=_BASE_METRIC_ATTRIBUTES,
    streaming_only=True,
)
METRIC_TIME_PER_OUTPUT_CHUNK = MetricSpec(
    name="gen_ai.client.operation.time_per_output_chunk",
    instrument="histogram",
    unit="s",
    description=(
        "Time per output chunk, recorded for each chunk received after the first one, measured "
        "as the time elapsed from the end of the previous chunk to the end of the current chunk."
    ),
    boundaries=DURATION_BOUNDARIES,
    required_attributes=_BASE_METRIC_ATTRIBUTES,
    streaming_only=True,
)

#: Every metric the library emits under semconv v1.41.1, by name.
METRICS: Mapping[str, MetricSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            METRIC_OPERATION_DURATION,
            METRIC_TOKEN_USAGE,
            METRIC_TIME_TO_FIRST_CHUNK,
            METRIC_TIME_PER_OUTPUT_CHUNK,
        )
    }
)


# -- profiles: one edition of the conventions each ---------------------------------------


@dataclass(frozen=True, slots=True)
class TokenMetric:
    """One instrument a call's token count goes to: which count, and the attributes it adds."""

    spec: MetricSpec
    #: ``TOKEN_TYPE_INPUT`` or ``TOKEN_TYPE_OUTPUT``: which Usage count is recorded.
    token_type: str
    attributes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Profile:
    """One edition of the GenAI conventions: what ``instrument()`` emits and the suite checks.

    Spans are alike in both editions (name ``{operation} {model}``, kind CLIENT, the same
    attributes for what this library records); metric names, instruments and attributes differ.
    """

    #: The key of ``PROFILES`` and of the ``otel_semconv`` setting.
    name: str
    #: Human-readable edition, for reports: ``"semantic-conventions v1.41.1"``.
    title: str
    #: The telemetry schema URL of the edition; None where the edition publishes none.
    schema_url: str | None
    attributes: tuple[AttributeSpec, ...]
    duration: MetricSpec
    time_to_first_chunk: MetricSpec
    time_per_output_chunk: MetricSpec
    tokens: tuple[TokenMetric, ...]
    #: Record token counts for every call: 0 when no usage arrived or the call failed, the
    #: token histograms then carrying ``error.type`` like the duration (genai v0.1.0).
    tokens_for_every_call: bool = False

    @property
    def metrics(self) -> Mapping[str, MetricSpec]:
        """Every metric of the edition, by name."""
        specs = (self.duration, self.time_to_first_chunk, self.time_per_output_chunk)
        found = {spec.name: spec for spec in specs}
        found.update({token.spec.name: token.spec for token in self.tokens})
        return MappingProxyType(found)


SEMCONV_1_41_1 = Profile(
    name="semconv-1.41.1",
    title=f"semantic-conventions v{SEMCONV_VERSION}",
    schema_url=SCHEMA_URL,
    attributes=ATTRIBUTES,
    duration=METRIC_OPERATION_DURATION,
    time_to_first_chunk=METRIC_TIME_TO_FIRST_CHUNK,
    time_per_output_chunk=METRIC_TIME_PER_OUTPUT_CHUNK,
    tokens=(
        TokenMetric(METRIC_TOKEN_USAGE, TOKEN_TYPE_INPUT, {GEN_AI_TOKEN_TYPE: TOKEN_TYPE_INPUT}),
        TokenMetric(METRIC_TOKEN_USAGE, TOKEN_TYPE_OUTPUT, {GEN_AI_TOKEN_TYPE: TOKEN_TYPE_OUTPUT}),
    ),
)

# semantic-conventions-genai v0.1.0, read from open-telemetry/semantic-conventions-genai:
# model/gen-ai/metrics.yaml and model/gen-ai/token-metrics.yaml (names, instruments, units,
# attributes) and docs/gen-ai/client-inference.md, docs/gen-ai/gen-ai-token-metrics.md
# (advisory boundaries). The inference span's type id there is ``gen_ai.client.inference``;
# a type id is not emitted, and its name, kind and the attributes recorded here are unchanged.
# The edition publishes no schema URL yet. Token usage moves from one histogram split by
# gen_ai.token.type to a counter per type, split by gen_ai.token.modality (``unknown`` when
# the provider does not break usage down, as here), plus a per-operation histogram per type.
_USAGE_ATTRIBUTES = (*_BASE_METRIC_ATTRIBUTES, GEN_AI_TOKEN_MODALITY)
_UNKNOWN_MODALITY: Mapping[str, str] = MappingProxyType(
    {GEN_AI_TOKEN_MODALITY: TOKEN_MODALITY_UNKNOWN}
)


def _counter(name: str, description: str) -> MetricSpec:
    return MetricSpec(name, "counter", "{token}", description, (), _USAGE_ATTRIBUTES)


def _per_operation(name: str, description: str) -> MetricSpec:
    return MetricSpec(
        name, "histogram", "{token}", description, TOKEN_BOUNDARIES, _BASE_METRIC_ATTRIBUTES
    )


GENAI_0_1_0 = Profile(
    name="genai-0.1.0",
    title="semantic-conventions-genai v0.1.0",
    schema_url=None,
    attributes=ATTRIBUTES,
    # Same instruments, units, boundaries and attributes as v1.41.1's; the names moved.
    duration=replace(
        METRIC_OPERATION_DURATION,
        name="gen_ai.client.inference.duration",
        description="GenAI client inference operation duration.",
    ),
    time_to_first_chunk=replace(
        METRIC_TIME_TO_FIRST_CHUNK, name="gen_ai.client.inference.time_to_first_chunk"
    ),
    time_per_output_chunk=replace(
        METRIC_TIME_PER_OUTPUT_CHUNK, name="gen_ai.client.inference.time_per_output_chunk"
    ),
    tokens=(
        TokenMetric(
            _counter(
                "gen_ai.client.inference.usage.input_tokens",
                "The number of input (prompt) tokens used, including cached tokens.",
            ),
            TOKEN_TYPE_INPUT,
            _UNKNOWN_MODALITY,
        ),
        TokenMetric(
            _counter(
                "gen_ai.client.inference.usage.output_tokens",
                "The number of output (completion) tokens used, including reasoning tokens.",
            ),
            TOKEN_TYPE_OUTPUT,
            _UNKNOWN_MODALITY,
        ),
        TokenMetric(
            _per_operation(
                "gen_ai.client.inference.operation.input_tokens",
                "The number of input (prompt) tokens used per inference operation.",
            ),
            TOKEN_TYPE_INPUT,
            MappingProxyType({}),
        ),
        TokenMetric(
            _per_operation(
                "gen_ai.client.inference.operation.output_tokens",
                "The number of output (completion) tokens used per inference operation.",
            ),
            TOKEN_TYPE_OUTPUT,
            MappingProxyType({}),
        ),
    ),
    tokens_for_every_call=True,
)

#: Every edition the library can emit and the suite can check, by name.
PROFILES: Mapping[str, Profile] = MappingProxyType(
    {profile.name: profile for profile in (SEMCONV_1_41_1, GENAI_0_1_0)}
)
#: The edition ``instrument()`` emits and the suite checks unless told otherwise.
DEFAULT_PROFILE = SEMCONV_1_41_1.name


def profile_named(name: str) -> Profile:
    """The edition called *name*, or a ValueError listing the known ones."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        msg = f"unknown telemetry profile {name!r}; expected one of {sorted(PROFILES)!r}"
        raise ValueError(msg) from None


def span_name(model: str, operation: str = OPERATION_CHAT) -> str:
    """Name an inference span as the conventions ask, falling back to the operation alone."""
    return SPAN_NAME_FORMAT.format(operation=operation, model=model) if model else operation
