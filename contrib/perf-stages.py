"""Inclusive share of each build stage in a profile of `bench --profile S`.

    perf record -F 499 --call-graph dwarf,16384 -o build.data \
        target/release/examples/bench --profile 12
    perf script -i build.data > build.txt
    python3 contrib/perf-stages.py build.txt

A sample inside `build_paper_into` belongs to the first stage function found walking from it
towards the leaf (the HTML second reader wherever it appears, as it wraps the page's writer).
"""
import sys, re, collections
STAGES = [
    ("parse", [r"redact::parse::parse_paper", r"\bparse_paper\b"]),
    ("raw HTML policy", [r"html_policy::check"]),
    ("redact + Markdown", [r"redact::redact::copy_for", r"\bcopy_for\b", r"render::markdown", r"redact::redact::Copy>", r"copy_markdown", r"schedule_for", r"Layout::of"]),
    ("second reader, Markdown", [r"reread::Reader>::markdown", r"Reader::markdown"]),
    ("HTML pages", [r"PageSource", r"render::.*write", r"emit<"]),
    ("second reader, HTML", [r"HtmlReader"]),
    ("audit: proof + record", [r"audit::prepare\b", r"audit::prepare<", r"\bprepare\b", r"prove_copies", r"Prover", r"audit::verify", r"drop_in_place<redact::audit::AuditRecord>"]),
    ("audit: JSON", [r"write_json", r"audit::json::"]),
    ("audit: HTML", [r"write_html"]),
]
def main(path):
    text = open(path, errors="replace").read()
    counts = collections.Counter(); total = 0
    for block in text.split("\n\n"):
        lines = block.strip().split("\n")
        if len(lines) < 2: continue
        frames = [l.strip().split(" ", 1)[1] if " " in l.strip() else l for l in lines[1:]]
        frames = frames[::-1]  # root first
        try:
            k = next(i for i, f in enumerate(frames) if "build_paper_into" in f)
        except StopIteration:
            continue
        total += 1
        stage = "other (in build_paper_into)"
        if any("HtmlReader" in f for f in frames[k + 1:]):
            counts["second reader, HTML"] += 1; continue
        for f in frames[k + 1:]:
            hit = next((name for name, pats in STAGES if any(re.search(p, f) for p in pats)), None)
            if hit:
                stage = hit; break
        counts[stage] += 1
    print(f"samples in build_paper_into: {total}")
    for name, _ in STAGES + [("other (in build_paper_into)", [])]:
        print(f"| {name} | {100*counts[name]/max(total,1):.1f}% |")
main(sys.argv[1])
