"""Civil registry (ثبت احوال): a person by national code.

``GET /persons/{national_code}`` -> 200::

    {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
     "birth_date": "1365/04/12", "gender": "male", "alive": true}

``gender`` is ``male`` or ``female``; ``birth_date`` is Jalali ``YYYY/MM/DD``. The code must be 10 ASCII
digits exactly as stored (the connector canonicalises what the citizen typed). Otherwise 404::

    {"error": "invalid-national-code", "detail": "...", "reason": "length" | "checksum"}
    {"error": "not-found", "detail": "..."}     # valid code, not in the registry (0061234567)

Any other valid code gives a generated living adult, drawn from the code (see `data.Draw`).

The registry also records marriages and births, for the birth registration:

``GET /marriages/{national_code}`` -> 200 ``{"national_code": "...", "registered": true,
"spouse_national_code": "9876543210", "marriage_date": "1398/06/15", "marriage_number": "..."}``; an
unregistered marriage has ``registered: false`` and nulls. Fixed: ``0013542419`` and ``9876543210``
married in 1398, as are ``0081500009`` and ``0081500017``; ``0081500033`` and ``0081500041`` have no
registered marriage. Others: registered 9 times in 10, to a drawn person of the other sex.

``GET /first-names/check?name=زهرا&sex=female`` -> 200 ``{"name": "زهرا", "permitted": true,
"refusal": null, "reason_fa": null, "reason_en": null}``; a refused name has ``refusal`` ``title``
(ملکه, شاه...), ``other_sex`` or ``not_listed`` and the reason in both languages (see `first_names`).

``POST /births`` ``{"birth_record_number", "mother_national_code", "father_national_code", "first_name",
"last_name", "sex", "birth_date"}`` registers a birth and assigns the child's national code, drawn from
the hospital's birth record number: 201 the first time, 200 with the same code when the same record is
registered again with the same name (a retried call); 409 ``already-registered`` for another name;
422 ``name-not-permitted``; 404 for an unknown parent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import FastAPI, Query, Response
from pydantic import BaseModel, Field

from connectors.simulators.agency import AgencyError, new_agency_app
from connectors.simulators.data import FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, Draw
from connectors.simulators.first_names import Sex, check_name, folded
from forms.identifiers import check_national_code


class Person(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: str
    gender: Literal["male", "female"]
    alive: bool
    postal_code: str = Field(description="postal code of the registered residence")


DEMO_PEOPLE = {
    person.national_code: person
    for person in (
        # The demo citizen: a living adult who owns mobile 09121234567 and manages company 10380284790.
        Person(national_code="0013542419", first_name="علی", last_name="رضایی", father_name="حسن",
               birth_date="1365/04/12", gender="male", alive=True, postal_code="1193653471"),
        Person(national_code="9876543210", first_name="مریم", last_name="حسینی", father_name="محمود",
               birth_date="1370/11/03", gender="female", alive=True, postal_code="8175913465"),
        Person(national_code="2720123455", first_name="محمود", last_name="کریمی", father_name="اسماعیل",
               birth_date="1310/02/20", gender="male", alive=False, postal_code="1193653471"),
        Person(national_code="3678123457", first_name="نازنین", last_name="احمدی", father_name="رضا",
               birth_date="1396/02/15", gender="female", alive=True, postal_code="8175913465"),
        # Parents of the birth registration's demo (see `health_ministry`).
        Person(national_code="0081500009", first_name="سمیرا", last_name="نوری", father_name="جواد",
               birth_date="1372/08/21", gender="female", alive=True, postal_code="8134673951"),
        Person(national_code="0081500017", first_name="بهزاد", last_name="کاظمی", father_name="مجید",
               birth_date="1369/01/30", gender="male", alive=True, postal_code="8134673951"),
        Person(national_code="0081500025", first_name="نگار", last_name="صادقی", father_name="حمید",
               birth_date="1375/05/09", gender="female", alive=True, postal_code="5163748591"),
        Person(national_code="0081500033", first_name="الهام", last_name="قاسمی", father_name="سعید",
               birth_date="1377/10/02", gender="female", alive=True, postal_code="9178654313"),
        Person(national_code="0081500041", first_name="رضا", last_name="طاهری", father_name="احمد",
               birth_date="1374/03/14", gender="male", alive=True, postal_code="9178654313"),
    )
}
# Valid by checksum, yet never issued: the registry's "no such person".
NOT_REGISTERED = frozenset({"0061234567"})


def find_person(national_code: str) -> Person | None:
    """The registry's record for a valid code, or None when the registry has no such person."""
    if national_code in NOT_REGISTERED or check_national_code(national_code) is not None:
        return None
    if national_code in DEMO_PEOPLE:
        return DEMO_PEOPLE[national_code]
    draw = Draw("civil-registry", national_code)
    gender: Literal["male", "female"] = "female" if draw.chance(1, 2) else "male"
    return Person(
        national_code=national_code,
        first_name=draw.pick(FEMALE_FIRST_NAMES if gender == "female" else MALE_FIRST_NAMES),
        last_name=draw.pick(LAST_NAMES),
        father_name=draw.pick(MALE_FIRST_NAMES),
        birth_date=draw.jalali_date(1330, 1384),
        gender=gender,
        alive=True,
        postal_code=_residence(draw),
    )


def _residence(draw: Draw) -> str:
    # Postal codes never use 0 or 2 in their first five digits (handwritten they pass for 5 and 3).
    allowed = "13456789"
    head = "".join(draw.pick(allowed) for _ in range(5))
    return head + "".join(str(draw.below(10)) for _ in range(5)).replace("00000", "12345")


def require_valid(national_code: str) -> None:
    """Refuse a malformed code the way this registry does (404, reason in the body)."""
    reason = check_national_code(national_code)
    if reason is not None:
        raise AgencyError(404, "invalid-national-code", "not a valid national code", reason=reason)


def build() -> FastAPI:
    app = new_agency_app("Civil registry (sandbox)", __doc__ or "")

    @app.get("/persons/{national_code}")
    async def person(national_code: str) -> Person:
        """A person by national code."""
        require_valid(national_code)
        found = find_person(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    _add_birth_routes(app)
    return app


class Marriage(BaseModel):
    national_code: str
    registered: bool
    spouse_national_code: str | None
    marriage_date: str | None = Field(description="Jalali YYYY/MM/DD")
    marriage_number: str | None


class NameAnswer(BaseModel):
    name: str
    permitted: bool
    refusal: Literal["title", "other_sex", "not_listed"] | None
    reason_fa: str | None
    reason_en: str | None


class BirthDeclaration(BaseModel):
    birth_record_number: str = Field(pattern=r"^[0-9]{12}$")
    mother_national_code: str = Field(pattern=r"^[0-9]{10}$")
    father_national_code: str = Field(pattern=r"^[0-9]{10}$")
    first_name: str = Field(min_length=1, max_length=60)
    last_name: str = Field(min_length=1, max_length=60)
    sex: Sex
    birth_date: str = Field(pattern=r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$")


class RegisteredBirth(BaseModel):
    national_code: str
    birth_record_number: str
    first_name: str
    last_name: str


# (husband, wife, date, number): the couples the birth registration's demo needs.
DEMO_MARRIAGES = (
    ("0013542419", "9876543210", "1398/06/15", "1398-0041-7723"),
    ("0081500017", "0081500009", "1400/02/11", "1400-0815-0093"),
)
UNREGISTERED_MARRIAGES = frozenset({"0081500033", "0081500041"})
_REFUSALS = {
    "title": ("«{name}» عنوان یا لقب است و به‌عنوان نام کوچک ثبت نمی‌شود.",
              "“{name}” is a title or rank, which is not registered as a first name."),
    "other_sex": ("«{name}» در فهرست نام‌های مجاز برای {sex_fa} نیست؛ نامی برای {sex_fa} انتخاب کنید.",
                  "“{name}” is not on the permitted list for a {sex_en}; choose a name for a {sex_en}."),
    "not_listed": ("«{name}» در فهرست نام‌های مجاز ثبت احوال نیست؛ نامی از فهرست انتخاب کنید.",
                   "“{name}” is not on the civil registry's list of permitted names; choose a name on the list."),
}


def find_marriage(national_code: str) -> Marriage | None:
    """The registered marriage of a person the registry knows (registered false when none), else None."""
    person = find_person(national_code)
    if person is None:
        return None
    for husband, wife, day, number in DEMO_MARRIAGES:
        if national_code in (husband, wife):
            spouse = wife if national_code == husband else husband
            return Marriage(national_code=national_code, registered=True, spouse_national_code=spouse,
                            marriage_date=day, marriage_number=number)
    draw = Draw("civil-registry-marriage", national_code)
    if national_code in UNREGISTERED_MARRIAGES or not draw.chance(9, 10):
        return Marriage(national_code=national_code, registered=False, spouse_national_code=None,
                        marriage_date=None, marriage_number=None)
    while True:  # a spouse of the other sex, so a generated couple can have a child
        spouse = draw.national_code()
        found = find_person(spouse)
        if found is not None and found.gender != person.gender and spouse not in DEMO_PEOPLE:
            break
    year = draw.between(1385, 1403)
    return Marriage(national_code=national_code, registered=True, spouse_national_code=spouse,
                    marriage_date=draw.jalali_date(year, year), marriage_number=f"{year}-{draw.below(10**8):08d}")


def name_answer(name: str, sex: Sex) -> NameAnswer:
    checked = check_name(name, sex)
    if checked.refusal is None:
        return NameAnswer(name=checked.name, permitted=True, refusal=None, reason_fa=None, reason_en=None)
    fa, en = _REFUSALS[checked.refusal]
    words = {"name": checked.name, "sex_fa": "پسر" if sex == "male" else "دختر",
             "sex_en": "boy" if sex == "male" else "girl"}
    return NameAnswer(name=checked.name, permitted=False, refusal=checked.refusal, reason_fa=fa.format(**words),
                      reason_en=en.format(**words))


def newborn_code(birth_record_number: str) -> str:
    """The national code the registry gives the child of a birth record: the same for the same record."""
    draw = Draw("civil-registry-newborn", birth_record_number)
    while True:
        code = draw.national_code()
        if code not in DEMO_PEOPLE and code not in NOT_REGISTERED:
            return code


def _add_birth_routes(app: FastAPI) -> None:
    # Births registered since the sandbox started, by birth record number: a retried registration
    # answers from here, another name for the same record is refused.
    registered: dict[str, RegisteredBirth] = {}

    @app.get("/marriages/{national_code}")
    async def marriage(national_code: str) -> Marriage:
        """A person's registered marriage (registered false when there is none)."""
        require_valid(national_code)
        found = find_marriage(national_code)
        if found is None:
            raise AgencyError(404, "not-found", "no person with this national code")
        return found

    @app.get("/first-names/check")
    async def first_name(name: Annotated[str, Query(min_length=1, max_length=60)], sex: Sex) -> NameAnswer:
        """Whether a first name is on the permitted list for a boy or a girl, and why not."""
        return name_answer(name, sex)

    @app.post("/births", status_code=201)
    async def register(declaration: BirthDeclaration, response: Response) -> RegisteredBirth:
        """Register a birth: the child's national code, drawn from the birth record number."""
        for code in (declaration.mother_national_code, declaration.father_national_code):
            require_valid(code)
            if find_person(code) is None:
                raise AgencyError(404, "not-found", f"no person with national code {code}")
        answer = name_answer(declaration.first_name, declaration.sex)
        if not answer.permitted:
            raise AgencyError(422, "name-not-permitted", answer.reason_en or "", refusal=answer.refusal)
        earlier = registered.get(declaration.birth_record_number)
        if earlier is not None:
            if earlier.first_name != answer.name or earlier.last_name != folded(declaration.last_name):
                raise AgencyError(409, "already-registered", "this birth is registered under another name",
                                  national_code=earlier.national_code)
            response.status_code = 200
            return earlier
        birth = RegisteredBirth(national_code=newborn_code(declaration.birth_record_number),
                                birth_record_number=declaration.birth_record_number, first_name=answer.name,
                                last_name=folded(declaration.last_name))
        registered[declaration.birth_record_number] = birth
        return birth
