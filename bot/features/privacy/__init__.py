"""A person's rights over their data: /dataku (what is kept, and a complete copy), /hapus
(erase everything, asked twice), and a new privacy text asked again; the job that
forgets an erased person's address once their goodbye has gone."""

from bot.core.feature import Feature
from bot.features.privacy import rights

FEATURE = Feature(
    name="privacy",
    commands=rights.COMMANDS,
    dialogs=(rights.DataDialog(), rights.EraseDialog(), rights.ConsentDialog()),
    jobs=(rights.forget_addresses_job,),
    first=(rights.ask_consent_again,),
    messages=(
        *(
            f"privacy.{key}"
            for key in (
                "summary",
                "nothing_kept",
                "copy_offer",
                "copy_made",
                "copy_json",
                "copy_csv",
                "copy_xlsx",
                "copy_declined",
                "use_buttons",
                "staff_erase",
                "erase_sure",
                "erase_word",
                "erase_wrong_word",
                "erase_cancelled",
                "erased",
                "participant_left",
                "changed",
                "agreed",
                "disagreed",
            )
        ),
        *(
            f"privacy.button.{key}"
            for key in ("copy", "no_thanks", "erase", "keep", "agree", "disagree")
        ),
    ),
)
