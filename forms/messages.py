"""What to tell a person about each kind of field error, in Persian and English.

Every error code has three texts: ``plain``, the short field-relative English that the API sends as
``message`` ("must be 10 digits"); and ``fa``/``en``, full sentences for a citizen in the GOV.UK style:
say what is wrong and how to put it right, with no blame and no "invalid". ``{label}`` is the field's
label (``{Label}`` at the start of an English sentence), ``{limit}`` a number from the rule. Persian
texts show digits in Persian.

Some codes have variants chosen by the error's ``params``: ``reason`` for formats (``length``,
``checksum``...), ``choice`` for questions answered by choosing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from persiantools.digits import en_to_fa


@dataclass(frozen=True)
class Message:
    plain: str
    en: str
    fa: str


class _Error(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def params(self) -> dict[str, Any]: ...


M = Message
MESSAGES: dict[str, dict[str, Message]] = {
    "required": {
        "": M("this field is required", "Enter {label}", "{label} را وارد کنید"),
        "choice": M("this field is required", "Select {label}", "{label} را انتخاب کنید"),
    },
    "type-integer": {"": M("must be a whole number", "{Label} must be a whole number, like 25",
                           "{label} باید عدد صحیح باشد، مانند ۲۵")},
    "type-number": {"": M("must be a number", "{Label} must be a number, like 12.5",
                          "{label} باید عدد باشد، مانند ۱۲٫۵")},
    "type-string": {"": M("must be text", "Enter {label} as text", "{label} را به صورت متن وارد کنید")},
    "type-boolean": {"": M("must be true or false", "Select yes or no for {label}",
                           "برای {label} بله یا خیر را انتخاب کنید")},
    "type-array": {"": M("must be a list", "Select one or more options for {label}",
                         "برای {label} یک یا چند گزینه را انتخاب کنید")},
    "type-object": {"": M("must be a group of answers", "Fill in {label}", "بخش {label} را کامل کنید")},
    "type-null": {"": M("must be empty", "Leave {label} empty", "{label} را خالی بگذارید")},
    "min-length": {"": M("must be at least {limit} characters", "{Label} must be {limit} characters or more",
                         "{label} باید دست‌کم {limit} نویسه باشد")},
    "max-length": {"": M("must be at most {limit} characters", "{Label} must be {limit} characters or fewer",
                         "{label} باید حداکثر {limit} نویسه باشد")},
    "minimum": {"": M("must be {limit} or more", "{Label} must be {limit} or more",
                      "{label} باید {limit} یا بیشتر باشد")},
    "maximum": {"": M("must be {limit} or less", "{Label} must be {limit} or less",
                      "{label} باید {limit} یا کمتر باشد")},
    "out-of-range": {"": M("must be within ±{limit}", "{Label} must be a number between minus {limit} and {limit}",
                           "{label} باید عددی میان منفی {limit} و {limit} باشد")},
    "exclusive-minimum": {"": M("must be more than {limit}", "{Label} must be more than {limit}",
                                "{label} باید بیشتر از {limit} باشد")},
    "exclusive-maximum": {"": M("must be less than {limit}", "{Label} must be less than {limit}",
                                "{label} باید کمتر از {limit} باشد")},
    "multiple-of": {"": M("must be a multiple of {limit}", "{Label} must be a multiple of {limit}",
                          "{label} باید مضربی از {limit} باشد")},
    "decimal-digits": {"": M("must have at most {limit} decimal places",
                             "{Label} must have {limit} decimal places or fewer",
                             "{label} باید حداکثر {limit} رقم اعشار داشته باشد")},
    "pattern": {"": M("is not in the expected format", "Enter {label} in the correct format",
                      "{label} را با قالب درست وارد کنید")},
    "choice": {"": M("must be one of the options", "Select {label} from the options given",
                     "{label} را از میان گزینه‌ها انتخاب کنید")},
    "min-items": {"": M("must have at least {limit} items", "Select at least {limit} options for {label}",
                        "برای {label} دست‌کم {limit} گزینه را انتخاب کنید")},
    "max-items": {"": M("must have at most {limit} items", "Select no more than {limit} options for {label}",
                        "برای {label} حداکثر {limit} گزینه را انتخاب کنید")},
    "unique-items": {"": M("must not repeat an item", "Select each option for {label} only once",
                           "هر گزینهٔ {label} را فقط یک بار انتخاب کنید")},
    "not-in-past": {"": M("must not be in the past", "{Label} must be today or in the future",
                          "{label} باید امروز یا پس از امروز باشد")},
    "upload-unknown": {"": M("upload the document first; this is not a file you uploaded",
                             "Upload {label} again", "{label} را دوباره بارگذاری کنید")},
    "characters": {"": M("must not contain the NUL character or a lone surrogate",
                         "{Label} contains a character that cannot be saved; remove it and enter {label} again",
                         "{label} نویسه‌ای دارد که نمی‌توان ذخیره کرد؛ آن را پاک کنید و {label} را دوباره وارد کنید")},
    "invalid": {"": M("is not an answer this form accepts", "Check {label} and enter it again",
                      "{label} را بررسی کنید و دوباره وارد کنید")},
    "conditions-too-costly": {"": M(
        "the form's conditions cannot be checked on this many answers",
        "This form cannot be checked with this many answers; remove some of the repeated items and try again",
        "این فرم را با این تعداد پاسخ نمی‌توان بررسی کرد؛ برخی از موارد تکراری را حذف کنید و دوباره بفرستید")},
    "field-name": {"": M("field names must be identifiers that do not start with '_'",
                         "Use a field name of letters, digits and underscores that does not start with an underscore",
                         "نام فیلد را از حرف، رقم و خط زیر بسازید و آن را با خط زیر شروع نکنید")},
    "ir-national-code": {
        "length": M("must be 10 digits", "{Label} must be 10 digits", "{label} باید ۱۰ رقم باشد"),
        "checksum": M("is not a valid national code", "{Label} is not right; check it against the national card",
                      "{label} درست نیست؛ آن را با کارت ملی مقایسه کنید"),
    },
    "ir-legal-id": {
        "length": M("must be 11 digits", "{Label} must be 11 digits", "{label} باید ۱۱ رقم باشد"),
        "checksum": M("is not a valid national ID of a legal entity",
                      "{Label} is not right; check it against the organisation's registration papers",
                      "{label} درست نیست؛ آن را با مدارک ثبتی سازمان مقایسه کنید"),
    },
    "ir-postal-code": {
        "length": M("must be 10 digits", "{Label} must be 10 digits", "{label} باید ۱۰ رقم باشد"),
        "shape": M("is not a valid postal code", "{Label} is not right; check it against a recent utility bill",
                   "{label} درست نیست؛ آن را با یک قبض آب یا برق مقایسه کنید"),
    },
    "ir-mobile": {"shape": M("must be a mobile number like 09121234567", "Enter {label} like 09121234567",
                             "{label} باید مانند ۰۹۱۲۱۲۳۴۵۶۷ باشد")},
    "ir-landline": {
        "shape": M("must be a landline number with its area code, like 02188776655",
                   "Enter {label} with its area code, like 02188776655",
                   "{label} را با پیش‌شماره وارد کنید، مانند ۰۲۱۸۸۷۷۶۶۵۵"),
        "area-code": M("has an area code that does not exist",
                       "{Label} has an area code that does not exist; check the first 3 digits",
                       "پیش‌شمارهٔ {label} وجود ندارد؛ سه رقم اول را بررسی کنید"),
    },
    "ir-sheba": {
        "length": M("must be IR followed by 24 digits", "{Label} must be IR followed by 24 digits",
                    "{label} باید IR و پس از آن ۲۴ رقم باشد"),
        "checksum": M("is not a valid Sheba number", "{Label} is not right; copy it from your bank app or card",
                      "{label} درست نیست؛ آن را از اپ یا کارت بانک کپی کنید"),
    },
    "ir-card": {
        "length": M("must be 16 digits", "{Label} must be 16 digits", "{label} باید ۱۶ رقم باشد"),
        "checksum": M("is not a valid card number", "{Label} is not right; check it against your bank card",
                      "{label} درست نیست؛ آن را با کارت بانکی خود مقایسه کنید"),
    },
    "ir-vehicle-plate": {
        "shape": M("must be a plate: two digits, a Persian letter, three digits and the two-digit region",
                   "Enter {label} as on the plate: two digits, the Persian letter, three digits and the region",
                   "{label} را همان‌طور که روی پلاک است وارد کنید، مانند ۱۲ ب ۳۴۵ ایران ۶۷"),
        "letter": M("has a letter no plate is issued with", "{Label} has a letter no plate is issued with; check it",
                    "حرف {label} روی هیچ پلاکی نیست؛ آن را بررسی کنید"),
    },
    "jalali-date": {
        "shape": M("must be a date like 1403/07/15", "Enter {label} as year/month/day, like 1403/07/15",
                   "{label} را به صورت سال/ماه/روز وارد کنید، مانند ۱۴۰۳/۰۷/۱۵"),
        "not-real": M("must be a real date", "{Label} must be a real date, like 1403/07/15",
                      "{label} باید یک تاریخ واقعی باشد، مانند ۱۴۰۳/۰۷/۱۵"),
    },
    "date": {
        "shape": M("must be a date like 2024-10-06", "Enter {label} as year-month-day, like 2024-10-06",
                   "{label} را به صورت سال-ماه-روز وارد کنید، مانند ۲۰۲۴-۱۰-۰۶"),
        "not-real": M("must be a real date", "{Label} must be a real date, like 2024-10-06",
                      "{label} باید یک تاریخ واقعی باشد، مانند ۲۰۲۴-۱۰-۰۶"),
    },
    "time": {"shape": M("must be a time like 14:30", "Enter {label} as hours and minutes, like 14:30",
                        "{label} را به صورت ساعت و دقیقه وارد کنید، مانند ۱۴:۳۰")},
    "date-time": {"shape": M("must be a date and time like 2024-10-06T14:30",
                             "Enter {label} as a date and time, like 2024-10-06T14:30",
                             "{label} را به صورت تاریخ و ساعت وارد کنید، مانند ۲۰۲۴-۱۰-۰۶T۱۴:۳۰")},
    "email": {"shape": M("must be an email address like name@example.com",
                         "Enter {label} in the correct format, like name@example.com",
                         "{label} را با قالب درست وارد کنید، مانند name@example.com")},
    "phone": {"shape": M("must be a phone number with its country code, like +982188776655",
                         "Enter {label} with its country code, like +982188776655",
                         "{label} را با کد کشور وارد کنید، مانند ‎+۹۸۲۱۸۸۷۷۶۶۵۵")},
    "uri": {"shape": M("must be a full web address", "Enter {label} in full, like https://example.com",
                       "{label} را کامل وارد کنید، مانند https://example.com")},
    "uuid": {"shape": M("must be an identifier like 123e4567-e89b-12d3-a456-426614174000",
                        "Enter {label} exactly as it was given to you",
                        "{label} را دقیقاً همان‌طور که به شما داده شده وارد کنید")},
    "data-url": {"shape": M("must be an uploaded file", "Upload {label} again", "{label} را دوباره بارگذاری کنید")},
}

_DEFAULT_LABELS: dict[str, dict[str, str]] = {
    "ir-national-code": {"fa": "کد ملی", "en": "national code"},
    "ir-legal-id": {"fa": "شناسه ملی", "en": "national ID"},
    "ir-postal-code": {"fa": "کد پستی", "en": "postal code"},
    "ir-mobile": {"fa": "شماره تلفن همراه", "en": "mobile number"},
    "ir-landline": {"fa": "شماره تلفن ثابت", "en": "landline number"},
    "ir-sheba": {"fa": "شماره شبا", "en": "Sheba number"},
    "ir-card": {"fa": "شماره کارت", "en": "card number"},
    "ir-vehicle-plate": {"fa": "شماره پلاک", "en": "plate number"},
    "jalali-date": {"fa": "تاریخ", "en": "date"},
    "date": {"fa": "تاریخ", "en": "date"},
    "email": {"fa": "نشانی ایمیل", "en": "email address"},
    "phone": {"fa": "شماره تلفن", "en": "phone number"},
}
_ANY_ANSWER = {"fa": "این پاسخ", "en": "this answer"}


def variant(code: str, params: dict[str, Any]) -> Message | None:
    """The message of an error code for these params, or None for a code this module does not know."""
    variants = MESSAGES.get(code)
    if variants is None:
        return None
    key = str(params.get("reason") or ("choice" if params.get("choice") else ""))
    return variants.get(key) or next(iter(variants.values()))


def plain_message(code: str, params: dict[str, Any]) -> str:
    """The short English the API sends as an error's ``message``."""
    found = variant(code, params)
    return found.plain.format(limit=params.get("limit", "")) if found else code


def _label(code: str, params: dict[str, Any], lang: str) -> str:
    raw = params.get("label")
    given: dict[str, str] = raw if isinstance(raw, dict) else {}
    other = "en" if lang == "fa" else "fa"
    # A label in the reader's language first, then the format's own name, then the label as the form
    # gives it, and only then a generic phrase.
    for texts, key in ((given, lang), (_DEFAULT_LABELS.get(code, {}), lang), (given, other), (_ANY_ANSWER, lang)):
        if texts.get(key):
            return str(texts[key])
    return _ANY_ANSWER[lang]


def message_for(error: _Error, lang: str) -> str:
    """A full sentence for a citizen, in ``"fa"`` or ``"en"``, naming the field by its label when known."""
    found = variant(error.code, error.params)
    if found is None:
        return error.message if lang == "en" else MESSAGES["invalid"][""].fa.format(label=_label("", {}, "fa"))
    label = _label(error.code, error.params, lang)
    limit = str(error.params.get("limit", ""))
    if lang == "fa":
        return found.fa.format(label=label, limit=en_to_fa(limit))
    # An acronym (ID, IBAN) keeps its capitals; an ordinary word is lower-case mid-sentence.
    lower = label if label[:2].isupper() else label[:1].lower() + label[1:]
    return found.en.format(label=lower, Label=label[:1].upper() + label[1:], limit=limit)
