"""The programme's own work: the weeks' calculators, the ideas ranking and the permit
advisor (actions of the weekly flows), /izin, /rencana (the business plan and its PDF) and
/ubah (an earlier answer changed, and what depends on it worked out again)."""

from bot.core.feature import Feature
from bot.features.programme import commands, computations, weekly
from flows import legal, plan

FEATURE = Feature(
    name="programme",
    commands=commands.COMMANDS,
    actions={**weekly.WEEKLY_ACTIONS, **computations.PROGRAMME_ACTIONS},
    answer_edited=(computations.recompute_after,),
    messages=(
        "calc.missing",
        "calc.failed",
        "calc.none",
        "calc.busy",
        "week03.ranking_lines",
        "week10.table",
        "week10.summary_line",
        "izin.route_intro",
        "izin.chain",
        *(f"izin.step.{code}" for code in legal.STEPS),
        "plan.summary",
        "plan.document",
        "plan.document_private",
        "plan.private_notice",
        "plan.meeting_day_unset",
        "plan.shortfall",
        "plan.capped",
        "plan.title",
        "plan.subtitle",
        "plan.item_missing",
        "plan.missing",
        "plan.cash_title",
        "plan.cash_negative",
        "plan.footer",
        *(f"plan.table.{name}" for name in plan.CASH_COLUMNS),
        *(f"plan.section.{section}" for section in plan.SECTION_IDS),
        *plan.all_label_keys(),
        "edit.weeks",
        "edit.nothing",
        "edit.not_done",
        "edit.list",
        "edit.how",
        "edit.bad_number",
        "edit.again",
        "edit.saved",
    ),
)
