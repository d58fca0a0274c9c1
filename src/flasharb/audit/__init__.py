"""An audit harness for any flash-loan contract: `flasharb audit --target ADDRESS --abi FILE`, or
`run_audit(w3, target, abi)` from Python. Knows nothing of the target beyond its address and ABI:
the generic attacks (flasharb.audit.attacks) are mined on the fork, each inside a snapshot, and
judged by a "nothing lost" guard on the target's balances, allowances and storage
(flasharb.audit.watch). See docs/audit.md.
"""

from flasharb.audit.abi import load_abi
from flasharb.audit.attacks import ATTACK_KINDS, Kind
from flasharb.audit.harness import run_audit
from flasharb.audit.report import AuditReport, Row, Verdict, print_report

__all__ = [
    "ATTACK_KINDS",
    "AuditReport",
    "Kind",
    "Row",
    "Verdict",
    "load_abi",
    "print_report",
    "run_audit",
]
