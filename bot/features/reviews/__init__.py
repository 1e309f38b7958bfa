"""/tinjau: work a participant finished (the product, the plan, the permits) waits for their
facilitator, who approves it or returns it with a comment."""

from bot.core.commands import Command
from bot.core.feature import Feature
from bot.core.roles import FACILITATORS
from bot.features.reviews import review

FEATURE = Feature(
    name="reviews",
    commands=(Command("tinjau", ("review",), review.review, FACILITATORS),),
    dialogs=(review.ReviewDialog(),),
    week_done=(review.week_done,),
    answer_edited=(review.answer_edited,),
    messages=(
        *(f"review.artefact.{k}" for k in ("product", "plan", "permits")),
        "review.button.approve",
        "review.button.return",
        *(
            f"review.field.{k}"
            for k in [
                "w3_choice",
                "w3_reason",
                "w3_scores",
                "product",
                "w11_plan_agreed",
                "w11_changes",
                "w11_members_present",
                "w12_permit_route",
                "w12_permit_filed",
                "w12_halal_filed",
                "w12_label_draft",
            ]
        ),
        *(
            f"review.{k}"
            for k in [
                "none",
                "list",
                "show",
                "ask_comment",
                "comment_length",
                "already",
                "decided",
                "approved",
                "returned",
                "submitted",
                "plan_document",
            ]
        ),
    ),
)
