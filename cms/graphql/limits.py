"""The document limits, whose errors carry their code from the moment they are made: Strawberry's
depth and alias limiters and graphql-core's introspection rule report through a validation
context that stamps the code on each error; the token limit is checked by the parser cache
(`cms.graphql.parser_cache`)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from cms.settings import Settings

__all__ = ["TooManyTokens", "validation_rules"]


class TooManyTokens(GraphQLError):
    def __init__(self, max_tokens: int) -> None:
        super().__init__(
            f"Document contains more than {max_tokens} tokens. Parsing aborted.",
            extensions={"code": "TOO_MANY_TOKENS"},
        )


class _CodedContext:
    """A validation context whose `report_error` gives each error `code`."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self._code}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _coded(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_CodedContext(context, code))

    Coded.__name__ = f"{rule.__name__}With{code.title().replace('_', '')}"
    return Coded


def validation_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The document limits as validation rules, built once per schema. The depth and alias
    limiters make a new rule class each time they are constructed; built per request, those
    classes would differ on every request and the validation cache, keyed by the rules, would
    never hit."""
    rules = [
        *(
            _coded(rule, "QUERY_TOO_DEEP")
            for rule in QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
        ),
        *(
            _coded(rule, "TOO_MANY_ALIASES")
            for rule in MaxAliasesLimiter(
                max_alias_count=settings.max_query_aliases
            ).validation_rules
        ),
    ]
    if not settings.introspection:
        rules.append(_coded(NoSchemaIntrospectionCustomRule, "INTROSPECTION_DISABLED"))
    return rules
