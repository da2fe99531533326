"""Helpers of the concurrency suite: limits, call plans, answers, and verdicts on outcomes."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import contained
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Role, merge_chunks
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

SIZE_CLASSES = 8
WORDS_PER_CLASS = 16
_FILLER = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heath")
_SHOWN = 3


# -- limits and verdicts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """The seed and deadline of one test or fixture; verdicts quote both so a run can be redone."""

    seed: int
    timeout: float
    start: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """Start the clock for one test with the run's conc_seed and conc_timeout."""
        return cls(settings.int("conc_seed"), settings.float("conc_timeout"))

    def left(self) -> float:
        """Seconds left before the deadline, never negative."""
        return max(0.0, self.start + self.timeout - time.monotonic())

    def rng(self, purpose: str) -> random.Random:
        """A generator fixed by the seed and *purpose*, so each use draws its own sequence."""
        return random.Random(f"{self.seed}:{purpose}")

    @property
    def rerun(self) -> str:
        """The settings that reproduce this run."""
        return (
            f"[conc_seed={self.seed}, conc_timeout={self.timeout:g}s; re-run with "
            f"--chatmodels-setting conc_seed={self.seed}]"
        )


def check(limits: Limits, problems: Sequence[str], headline: str) -> None:
    """Fail with *headline* and the first few *problems*, if there are any."""
    if not problems:
        return
    shown = "; ".join(problems[:_SHOWN])
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    msg = f"{headline}: {shown}{more} {limits.rerun}"
    raise AssertionError(msg)


def hung(limits: Limits, what: str) -> AssertionError:
    """The verdict for something still running at the deadline."""
    msg = f"hung: {what} was still running after conc_timeout={limits.timeout:g}s {limits.rerun}"
    return AssertionError(msg)


# -- the calls -----------------------------------------------------------------------------


def call_methods(metadata: ProviderMetadata, *, asynchronous: bool) -> tuple[str, ...]:
    """The call styles a load mixes: whole answers, and streams when the provider declares them."""
    whole, streamed = ("ainvoke", "astream") if asynchronous else ("invoke", "stream")
    return (whole, streamed) if metadata.supports(Capability.STREAMING) else (whole,)


def prompt_for(index: int, seed: int) -> tuple[str, int]:
    """A prompt unique to *index*, padded by a size class so usage can be traced to it."""
    size = random.Random(f"{seed}:size:{index}").randrange(SIZE_CLASSES)
    words = [_FILLER[(index + k) % len(_FILLER)] for k in range(size * WORDS_PER_CLASS)]
    return " ".join([f"Concurrency probe {index:05d} seed {seed}. Repeat:", *words]), size


@dataclass(frozen=True, slots=True)
class Call:
    """One planned call: which prompt, in which style, made by whom."""

    index: int
    method: str
    caller: str
    prompt: str
    size: int = 0

    @property
    def label(self) -> str:
        """The call as named in verdicts."""
        number = f" #{self.index}" if self.index >= 0 else ""
        return f"{self.caller} ({self.method}{number})"


def streamed(index: int, seed: int) -> bool:
    """Whether prompt *index* is streamed; fixed per prompt, so it is compared like with like."""
    return random.Random(f"{seed}:style:{index}").random() < 0.5


def method_for(index: int, methods: Sequence[str], seed: int) -> str:
    """The style prompt *index* is asked in: its stream variant when streamed and declared."""
    return methods[-1] if streamed(index, seed) else methods[0]


def plan(
    indices: Iterable[int],
    methods: Sequence[str],
    seed: int,
    caller: Callable[[int], str],
) -> list[Call]:
    """Calls for *indices*, each streamed or not as its prompt is in every load."""
    calls = []
    for position, index in enumerate(indices):
        prompt, size = prompt_for(index, seed)
        calls.append(Call(index, method_for(index, methods, seed), caller(position), prompt, size))
    return calls


@dataclass(frozen=True, slots=True)
class Answer:
    """The parts of a result that identify whose answer it is."""

    text: str
    tool_calls: tuple[tuple[str, str], ...]
    finish_reason: str
    usage: tuple[int, int] | None
    response_id: str

    def same_as(self, other: Answer) -> bool:
        """Tell whether two answers agree; usage is compared when both report it."""
        if (self.text, self.tool_calls, self.finish_reason) != (
            other.text,
            other.tool_calls,
            other.finish_reason,
        ):
            return False
        return self.usage is None or other.usage is None or self.usage == other.usage

    @property
    def short(self) -> str:
        """The answer as quoted in verdicts."""
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"{text!r} (finish {self.finish_reason}, usage {self.usage})"


class Malformed(Exception):
    """The provider returned something that is not a valid answer."""


def answer_of(result: object, what: str) -> Answer:
    """Check *result* is a valid non-empty assistant answer and reduce it to an Answer."""
    if not isinstance(result, ChatResult):
        msg = f"{what} returned {type(result).__name__}; expected a ChatResult"
        raise Malformed(msg)
    message = result.message
    if not isinstance(result.finish_reason, FinishReason):
        msg = f"{what} returned finish_reason {result.finish_reason!r}; expected a FinishReason"
        raise Malformed(msg)
    if message.role is not Role.ASSISTANT:
        msg = f"{what} answered with role {message.role!r}; expected 'assistant'"
        raise Malformed(msg)
    if not message.content and not message.tool_calls:
        msg = f"{what} returned an empty answer (no text, no tool calls)"
        raise Malformed(msg)
    usage = result.usage
    return Answer(
        message.content,
        tuple((c.name, c.arguments) for c in message.tool_calls),
        result.finish_reason.value,
        None if usage is None else (usage.input_tokens, usage.output_tokens),
        result.response_id or "",
    )


def merged(chunks: Sequence[object], what: str) -> ChatResult:
    """Fold a consumed stream into a result, or say why it is not a valid stream."""
    bad = next((c for c in chunks if not isinstance(c, ChatChunk)), None)
    if bad is not None:
        msg = f"{what} yielded {type(bad).__name__}; expected ChatChunk items"
        raise Malformed(msg)
    try:
        return merge_chunks([c for c in chunks if isinstance(c, ChatChunk)])
    except ChatModelError as exc:
        msg = f"{what} gave an invalid stream of {len(chunks)} chunks: {exc}"
        raise Malformed(msg) from None


@dataclass(slots=True)
class LoadOutcome:
    """How one call ended: an answer, a malformed result, an exception, or not at all."""

    call: Call
    answer: Answer | None = None
    problem: str = ""
    error: BaseException | None = None
    hung: bool = False


def call_sync(model: ChatModel, call: Call) -> LoadOutcome:
    """Make *call* with invoke or stream; never raises."""
    try:
        if call.method == "invoke":
            result: object = model.invoke(call.prompt)
        else:
            result = merged(list(model.stream(call.prompt)), "stream")
        return LoadOutcome(call, answer=answer_of(result, call.method))
    except Malformed as exc:
        return LoadOutcome(call, problem=str(exc))
    except BaseException as exc:  # a provider's KeyboardInterrupt is a verdict, not a stop
        return LoadOutcome(call, error=contained(exc, f"{call.method}()"))


async def call_async(model: ChatModel, call: Call) -> LoadOutcome:
    """Make *call* with ainvoke or astream; never raises except on cancellation."""
    try:
        if call.method == "ainvoke":
            result: object = await model.ainvoke(call.prompt)
        else:
            result = merged([c async for c in model.astream(call.prompt)], "astream")
        return LoadOutcome(call, answer=answer_of(result, call.method))
    except Malformed as exc:
        return LoadOutcome(call, problem=str(exc))
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # a provider's KeyboardInterrupt is a verdict, not a stop
        return LoadOutcome(call, error=contained(exc, f"{call.method}()"))


def is_closed_error(exc: BaseException | None) -> bool:
    """Tell whether *exc* is the ChatModelError a closed model raises."""
    return isinstance(exc, ChatModelError) and exc.code is ErrorCode.CLOSED


# -- verdicts on loads ---------------------------------------------------------------------


def not_answered(outcomes: Iterable[LoadOutcome]) -> list[str]:
    """Calls that hung, failed or returned a malformed result."""
    problems = []
    for o in outcomes:
        if o.hung:
            problems.append(f"{o.call.label} never returned")
        elif o.error is not None:
            problems.append(f"{o.call.label} raised {describe_raised(o.error)}")
        elif o.problem:
            problems.append(f"{o.call.label}: {o.problem}")
    return problems


def foreign_errors(outcomes: Iterable[LoadOutcome]) -> list[str]:
    """Calls whose exception is not a ChatModelError."""
    return [
        f"{o.call.label} raised {describe_raised(o.error)}"
        for o in outcomes
        if o.error is not None and not isinstance(o.error, ChatModelError)
    ]


def answered(outcomes: Iterable[LoadOutcome]) -> list[tuple[Call, Answer]]:
    """The calls that returned a valid answer, with it."""
    return [(o.call, o.answer) for o in outcomes if o.answer is not None]


def solo_mismatches(
    answers: Sequence[tuple[Call, Answer]], solo: dict[int, Answer]
) -> list[tuple[Call, Answer, Answer]]:
    """Answers under load that differ from the same prompt asked alone in the same style."""
    return [
        (call, answer, alone)
        for call, answer in answers
        if (alone := solo.get(call.index)) is not None and not answer.same_as(alone)
    ]


def shared_ids(answers: Sequence[tuple[Call, Answer]]) -> list[str]:
    """Response ids handed to more than one caller."""
    owners: dict[str, Call] = {}
    problems = []
    for call, answer in answers:
        first = owners.setdefault(answer.response_id, call) if answer.response_id else call
        if first is not call:
            problems.append(
                f"{first.label} and {call.label} both got response id {answer.response_id!r}"
            )
    return problems


def usage_crossings(answered: Sequence[tuple[Call, Answer]]) -> list[str]:
    """Prompts padded by more words must be billed more input tokens, whoever ran next to them."""
    by_size: dict[int, list[tuple[int, Call]]] = {}
    for call, answer in answered:
        if answer.usage is not None:
            by_size.setdefault(call.size, []).append((answer.usage[0], call))
    problems = []
    sizes = sorted(by_size)
    for small, large in itertools.pairwise(sizes):
        most, heavy = max(by_size[small], key=lambda item: item[0])
        least, light = min(by_size[large], key=lambda item: item[0])
        if most >= least:
            problems.append(
                f"{heavy.label} sent {small * WORDS_PER_CLASS} filler words and was billed {most} "
                f"input tokens, but {light.label} sent {large * WORDS_PER_CLASS} and was billed "
                f"{least}; each usage must be that of its own request"
            )
    return problems
