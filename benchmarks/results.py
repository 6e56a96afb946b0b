"""The run's raw numbers (one record per workload, case, thread count, competitor)
and the tables made from them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    """A markdown table, and optionally the bar chart of one of its metrics."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    # chart: {"ylabel": str, "categories": [case, ...], "series": {competitor: [value|None]}}
    chart: dict | None = None

    def markdown(self) -> str:
        lines = [f"### {self.title}", "",
                 "| " + " | ".join(self.headers) + " |",
                 "|" + "|".join(" --- " for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


@dataclass
class Run:
    settings: object
    machine: dict
    command: str
    records: list[dict] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    others: list = field(default_factory=list)  # other pydl builds (other_builds.OtherBuild)

    def add(self, workload: str, case: str, threads: int, competitor: str, **fields) -> dict:
        record = {"workload": workload, "case": case, "threads": threads,
                  "competitor": competitor, **fields}
        self.records.append(record)
        return record

    def find(self, workload: str, case: str, threads: int, competitor: str) -> dict | None:
        for record in self.records:
            if (record["workload"], record["case"], record["threads"],
                    record["competitor"]) == (workload, case, threads, competitor):
                return record
        return None

    def value(self, workload: str, case: str, threads: int, competitor: str) -> float | None:
        record = self.find(workload, case, threads, competitor)
        return record.get("value") if record else None

    def say_unavailable(self, what: str, reason: str) -> None:
        line = f"{what}: not available yet: {reason}"
        if line not in self.unavailable:
            self.unavailable.append(line)
            print(line, flush=True)


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with `digits` significant digits, or "n/a"."""
    if value is None:
        return "n/a"
    if value == 0 or abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"
