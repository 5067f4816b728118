"""OpenSLO v1 documents by kind and name, so references (`indicatorRef`, `alertPolicyRef`,
`conditionRef`, `metricSourceRef`) resolve among the documents given to one import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.interop.findings import Findings, Origin
from app.interop.naming import labels
from app.interop.reader import Node
from app.slo.yamlsource import YamlDocument

API_VERSION = "openslo/v1"
KINDS = frozenset(
    {
        "Service",
        "SLO",
        "SLI",
        "DataSource",
        "AlertPolicy",
        "AlertCondition",
        "AlertNotificationTarget",
    }
)


@dataclass
class Entry:
    kind: str
    name: str
    document: YamlDocument
    used: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Metadata:
    """`metadata` of an OpenSLO object; `annotations` are left for the caller to read."""

    name: str
    display_name: str | None
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class OpenSLOIndex:
    findings: Findings
    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)
    order: list[Entry] = field(default_factory=list)

    @classmethod
    def build(cls, documents: Sequence[YamlDocument], findings: Findings) -> OpenSLOIndex:
        index = cls(findings)
        for document in documents:
            index._add(document)
        return index

    def _add(self, document: YamlDocument) -> None:
        data: dict[str, Any] = document.data if isinstance(document.data, dict) else {}
        metadata = data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        origin = Origin(document, f"{data.get('kind', 'document')} {name or '(no name)'}")
        version, kind = data.get("apiVersion"), data.get("kind")
        if version != API_VERSION:
            self.findings.warn(
                origin.at("apiVersion"),
                f"only {API_VERSION} documents are imported; this one "
                f"({version or 'no apiVersion'}) is not",
            )
            return
        if kind not in KINDS:
            self.findings.error(
                origin.at("kind"),
                f"unknown OpenSLO kind {kind!r}; known: {', '.join(sorted(KINDS))}",
            )
            return
        if not isinstance(name, str) or not name.strip():
            self.findings.error(origin.at("metadata", "name"), "required field is missing")
            return
        entry = Entry(kind, name.strip(), document)
        if (kind, entry.name) in self.entries:
            first = self.entries[(kind, entry.name)].document
            self.findings.error(
                origin.at("metadata", "name"),
                f"{kind} {entry.name!r} is defined twice (first in {first.file})",
            )
            return
        self.entries[(kind, entry.name)] = entry
        self.order.append(entry)

    def get(self, kind: str, name: str) -> Entry | None:
        entry = self.entries.get((kind, name))
        if entry is not None:
            entry.used = True
        return entry

    def of_kind(self, kind: str) -> list[Entry]:
        return [entry for entry in self.order if entry.kind == kind]

    def root(self, entry: Entry) -> Node:
        node = Node.root(entry.document, entry.label, self.findings)
        node.text("apiVersion")
        node.text("kind")
        return node


def read_metadata(node: Node, *, keep_display_name: bool = False) -> Metadata | None:
    """Read `metadata`; labels become Faultline labels (a list value is joined with commas)."""
    findings = node.findings
    meta = node.mapping("metadata", required=True)
    if meta is None:
        return None
    name = meta.text("name", required=True)
    display_name = meta.text("displayName")
    raw_labels = meta.raw("labels")
    flat: dict[str, str] = {}
    if isinstance(raw_labels, dict):
        for key, value in raw_labels.items():
            if isinstance(value, list):
                flat[str(key)] = ",".join(str(item) for item in value)
                findings.warn(
                    meta.at("labels", key),
                    "a list of label values is imported as one value, "
                    f"joined with commas: {flat[str(key)]!r}",
                )
            elif value is not None:
                flat[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    elif raw_labels is not None:
        findings.error(meta.at("labels"), "expected a mapping of labels")
    annotations = meta.strings("annotations")
    if display_name is not None and not keep_display_name:
        findings.warn(
            meta.at("displayName"), "Faultline shows names, not display names; not imported"
        )
    meta.unread()
    if name is None:
        return None
    return Metadata(name, display_name, labels(meta.at("labels"), flat, findings), annotations)
