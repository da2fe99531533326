"""Requirements of the contract suite beyond plain text: structured output, images, reasoning."""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST = Level.MUST

_SCHEMA: tuple[Requirement, ...] = (
    Requirement(
        "SCHEMA-001",
        MUST,
        "Structured output (a json_schema response format, strict) gives content valid "
        "against the schema",
        "Applications parse structured output straight into typed objects; content that "
        "breaks the schema crashes them, however plausible it reads.",
        Capability.STRUCTURED_OUTPUT,
    ),
    Requirement(
        "SCHEMA-002",
        MUST,
        "Streamed structured output concatenates to a value valid against the schema, the "
        "same value invoke gives when the provider is deterministic",
        "Streaming UIs render structured answers as they arrive; a delta lost or reordered "
        "on the way yields a document that no longer parses or validates.",
        Capability.STRUCTURED_OUTPUT,
    ),
)

_VISION: tuple[Requirement, ...] = (
    Requirement(
        "VISION-001",
        MUST,
        "An image part, by data URI and by URL, is accepted and reaches the model, invoked "
        "and streamed",
        "A provider that declares vision but drops or mangles the image answers about a "
        "picture it never saw; the answer looks fine and is made up.",
        Capability.VISION,
    ),
)

_REASON: tuple[Requirement, ...] = (
    Requirement(
        "REASON-001",
        MUST,
        "Reasoning stays apart from the answer: no reasoning text or think tags in the "
        "content, invoked and streamed",
        "Applications show, store and parse the answer; reasoning leaked into it exposes "
        "drafts to users and breaks parsers expecting only the answer.",
        Capability.REASONING,
    ),
    Requirement(
        "REASON-002",
        MUST,
        "Reasoning tokens are reported within the output tokens whenever reasoning is shown",
        "Cost dashboards and budgets read reasoning tokens as part of the output; a count "
        "missing, or outside the output, misprices every reasoning call.",
        Capability.REASONING,
    ),
)

REQUIREMENTS: tuple[Requirement, ...] = (*_SCHEMA, *_VISION, *_REASON)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "vision_image_url",
        "https://upload.wikimedia.org/wikipedia/commons/4/47/PNG_transparency_demonstration_1.png",
        "The http(s) image VISION-001 sends by URL; a provider without internet access can be "
        "given a URL it reaches.",
    ),
)
