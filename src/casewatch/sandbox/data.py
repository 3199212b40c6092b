"""Test data of the built-in sandbox: the staging receipts and a deterministic case generator.

The USCIS sandbox answers only for the 50 staging receipts listed in uscis-api.md
("Staging receipts (sandbox test data)"); USCIS publishes what two of them return, so the
others get plausible invented cases. Every case is drawn from a random stream seeded with
its receipt number alone (never the clock), so a receipt always gives the same payload,
in any process. Status titles come from case-stages.md, their stages from the table of
:mod:`casewatch.stages`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from casewatch.stages import Stage, classify_stage

RECEIPT_PATTERN = re.compile(r"[A-Z]{3}(?:[0-9]{10}|\*[0-9]{9})")
"""What the server accepts, matched in full and never normalized (uscis-api.md, "Receipt
numbers"): 3 uppercase letters then 10 ASCII digits, or the masked form ``*`` + 9 digits."""

STAGING_RECEIPTS_WITH_HISTORY: tuple[str, ...] = (
    "EAC9999103403", "EAC9999103404", "EAC9999103405", "EAC9999103410", "EAC9999103411",
    "EAC9999103416", "EAC9999103419", "LIN9999106498", "LIN9999106499", "LIN9999106504",
    "LIN9999106505", "LIN9999106506", "SRC9999102777", "SRC9999102778", "SRC9999102779",
    "SRC9999102780", "SRC9999102781", "SRC9999102782", "SRC9999102783", "SRC9999102784",
    "SRC9999102785", "SRC9999102786", "SRC9999102787", "SRC9999132710", "SRC9999132719",
)  # fmt: skip
"""The 25 staging receipts "with history data" (uscis-api.md, "Staging receipts")."""

STAGING_RECEIPTS_WITHOUT_HISTORY: tuple[str, ...] = (
    "EAC9999103400", "EAC9999103402", "EAC9999103406", "EAC9999103407", "EAC9999103408",
    "EAC9999103409", "EAC9999103412", "EAC9999103413", "EAC9999103414", "EAC9999103415",
    "EAC9999103420", "EAC9999103421", "EAC9999103424", "EAC9999103425", "EAC9999103426",
    "EAC9999103428", "EAC9999103429", "EAC9999103431", "EAC9999103432", "LIN9999106501",
    "LIN9999106507", "SRC9999132694", "SRC9999132695", "SRC9999132706", "SRC9999132707",
)  # fmt: skip
"""The 25 staging receipts "without history data": their ``hist_case_status`` is null."""

STAGING_RECEIPTS: tuple[str, ...] = STAGING_RECEIPTS_WITH_HISTORY + STAGING_RECEIPTS_WITHOUT_HISTORY
"""All 50 staging receipts, in the order of uscis-api.md."""

STAGES: tuple[str, ...] = tuple(stage.value for stage in Stage if stage is not Stage.UNKNOWN)
"""The stages that a generated case can be in (all but ``unknown``), in life order."""

SUCCESS_MESSAGE = "Query was successful"

_EARLIEST_FILING = date(2022, 1, 3)
_LATEST_FILING = date(2026, 6, 30)
_LATEST_EVENT = date(2026, 10, 30)
_MAX_DAYS_PER_STEP = 75
_MAX_HISTORY = 8

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip

_ADDRESS_LINK = '<a href="https://www.uscis.gov/addresschange">www.uscis.gov/addresschange</a>'
_ADDRESS_EN = f"If you move, go to {_ADDRESS_LINK} to give us your new mailing address."
_ADDRESS_ES = f"Si se muda, visite {_ADDRESS_LINK} para darnos su nueva dirección postal."
_CONTACT_LINK = '<a href="https://www.uscis.gov/contactcenter">www.uscis.gov/contactcenter</a>'
_NOTICE_EN = "Please follow the instructions in the notice."
_NOTICE_ES = "Por favor, siga las instrucciones del aviso."


@dataclass(frozen=True)
class _Form:
    """A USCIS form; ``traits`` say which statuses fit it (see ``_Status.needs``)."""

    code: str
    name_en: str
    name_es: str
    traits: frozenset[str]


def _form(code: str, name_en: str, name_es: str, *traits: str) -> _Form:
    return _Form(code, name_en, name_es, frozenset(traits))


_FORMS: tuple[_Form, ...] = (
    _form("I-130", "Petition for Alien Relative", "Petición de Familiar Extranjero",
          "petition", "consular"),
    _form("I-485", "Application to Register Permanent Residence or Adjust Status",
          "Solicitud de Registro de Residencia Permanente o Ajuste de Estatus",
          "biometrics", "interview", "card", "fee_waiver"),
    _form("I-765", "Application for Employment Authorization",
          "Solicitud de Autorización de Empleo", "biometrics", "card", "fee_waiver"),
    _form("I-131", "Application for Travel Document", "Solicitud de Documento de Viaje",
          "biometrics", "travel"),
    _form("I-140", "Immigrant Petition for Alien Worker",
          "Petición de Inmigrante para Trabajador Extranjero", "petition", "consular",
          "premium"),
    _form("I-129", "Petition for a Nonimmigrant Worker",
          "Petición de Trabajador No Inmigrante", "petition", "premium"),
    _form("I-539", "Application to Extend/Change Nonimmigrant Status",
          "Solicitud para Extender/Cambiar el Estatus de No Inmigrante", "biometrics",
          "premium"),
    _form("I-751", "Petition to Remove Conditions on Residence",
          "Petición para Eliminar las Condiciones de Residencia", "biometrics", "interview",
          "card"),
    _form("I-90", "Application to Replace Permanent Resident Card",
          "Solicitud para Reemplazar la Tarjeta de Residente Permanente", "biometrics",
          "card", "fee_waiver"),
    _form("N-400", "Application for Naturalization", "Solicitud de Naturalización",
          "biometrics", "interview", "fee_waiver"),
    _form("I-129F", "Petition for Alien Fiancé(e)", "Petición de Prometido(a) Extranjero(a)",
          "petition", "consular"),
    _form("I-821D", "Consideration of Deferred Action for Childhood Arrivals",
          "Consideración de Acción Diferida para los Llegados en la Infancia", "biometrics"),
)  # fmt: skip


@dataclass(frozen=True)
class _Status:
    """A status title of case-stages.md with its texts.

    Texts are templates over ``{date}``, ``{form}`` ("Form I-130, Petition for Alien
    Relative") and ``{receipt}``. ``phase`` orders statuses along a case's life, ``needs``
    is a form trait the status requires, ``after`` the titles that must come just before it.
    """

    phase: int
    title_en: str
    title_es: str
    desc_en: str
    desc_es: str
    done_en: str
    done_es: str
    needs: str | None = None
    after: tuple[str, ...] = ()

    @property
    def stage(self) -> str:
        """The stage of the title, as casewatch classifies it."""
        return classify_stage(self.title_en).value

    def fits(self, form: _Form) -> bool:
        return self.needs is None or self.needs in form.traits


_APPROVED = "Case Was Approved"
_RECEIPT_SENT = "Case Was Received and A Receipt Notice Was Sent"
_LOCKBOX = "Case Accepted By The USCIS Lockbox"
_BIO_SCHEDULED = "Biometrics Appointment Was Scheduled"
_RFE_SENT = "Request for Additional Evidence Was Sent"
_INTERVIEW_SCHEDULED = "Interview Was Scheduled"
_CARD_PRODUCED = "New Card Is Being Produced"
_CARD_MAILED = "Card Was Mailed To Me"
_PAROLE_PRODUCED = "Advance Parole Document Was Produced"
_TRAVEL_MAILED = "Travel Document Was Mailed"
_FINGERPRINTS_TAKEN = "Case Was Updated To Show Fingerprints Were Taken"
_BIO_RESCHEDULE = "Request To Reschedule My Appointment Was Received"
_ACTIVE_REVIEW = "Case Is Being Actively Reviewed By USCIS"
_CORRESPONDENCE = "Correspondence Was Received And USCIS Is Reviewing It"
_NEW_OFFICE = "Case Was Transferred And A New Office Has Jurisdiction"
_RFE_RESPONSE = "Response To USCIS' Request For Evidence Was Received"
_READY_FOR_INTERVIEW = "Case is Ready to Be Scheduled for An Interview"
_INTERVIEW_DONE = "Interview Was Completed And My Case Must Be Reviewed"
_SENT_TO_STATE = "Case Was Sent To The Department of State"
_CARD_DELIVERED = "Card Was Delivered To Me By The Post Office"

_STATUSES: tuple[_Status, ...] = (
    # received
    _Status(
        0, "Case Was Received", "Caso Fue Recibido",
        "On {date}, we received your {form}, Receipt Number {receipt}. We will notify you "
        f"when we make a decision or if we need something from you. {_ADDRESS_EN}",
        "El {date}, recibimos su {form}, Número de Recibo {receipt}. Le notificaremos cuando "
        f"tomemos una decisión o si necesitamos algo de usted. {_ADDRESS_ES}",
        "We received your {form}.", "Recibimos su {form}.",
    ),
    _Status(
        0, _RECEIPT_SENT, "Caso Fue Recibido y Se Envió un Aviso de Recibo",
        "On {date}, we received your {form}, Receipt Number {receipt}, and sent you the "
        "receipt notice that describes how we will process your case. "
        f"{_NOTICE_EN} If you move, go to www.uscis.gov/addresschange to give us your new "
        "mailing address.",
        "El {date}, recibimos su {form}, Número de Recibo {receipt}, y le enviamos el aviso "
        f"de recibo que describe cómo procesaremos su caso. {_NOTICE_ES} Si se muda, visite "
        "www.uscis.gov/addresschange para darnos su nueva dirección postal.",
        "We received your {form}, and sent you a receipt notice.",
        "Recibimos su {form}, y le enviamos un aviso de recibo.",
    ),
    _Status(
        0, _LOCKBOX, "Caso Aceptado por la Oficina de Recepción (Lockbox) de USCIS",
        "On {date}, the USCIS lockbox accepted your {form}, Receipt Number {receipt}, and "
        "forwarded it to the office that will process your case. We will send you a receipt "
        "notice.",
        "El {date}, la oficina de recepción (lockbox) de USCIS aceptó su {form}, Número de "
        "Recibo {receipt}, y lo envió a la oficina que procesará su caso. Le enviaremos un "
        "aviso de recibo.",
        "The USCIS lockbox accepted your {form}.",
        "La oficina de recepción (lockbox) de USCIS aceptó su {form}.",
    ),
    _Status(
        0, "Fees Were Waived", "Se Eximió el Pago de las Tarifas",
        "On {date}, we approved your request for a fee waiver for your {form}, Receipt Number "
        f"{{receipt}}, and we will now process your case. We sent you a notice. {_NOTICE_EN}",
        "El {date}, aprobamos su solicitud de exención de tarifas para su {form}, Número de "
        f"Recibo {{receipt}}, y ahora procesaremos su caso. Le enviamos un aviso. {_NOTICE_ES}",
        "We waived the fees for your {form}.", "Eximimos las tarifas de su {form}.",
        needs="fee_waiver",
    ),
    # biometrics
    _Status(
        1, _BIO_SCHEDULED, "Se Programó una Cita de Servicios Biométricos",
        "On {date}, we scheduled your biometrics appointment for your {form}, Receipt Number "
        f"{{receipt}}. We sent you a biometrics appointment notice. {_NOTICE_EN} You can "
        'also reschedule at <a href="https://www.uscis.gov/biometrics">'
        "www.uscis.gov/biometrics</a>.",
        "El {date}, programamos su cita de servicios biométricos para su {form}, Número de "
        f"Recibo {{receipt}}. Le enviamos un aviso de cita. {_NOTICE_ES} También puede "
        'reprogramarla en <a href="https://www.uscis.gov/biometrics">'
        "www.uscis.gov/biometrics</a>.",
        "We scheduled your biometrics appointment for your {form}.",
        "Programamos su cita de servicios biométricos para su {form}.",
        needs="biometrics",
    ),
    _Status(
        1, _FINGERPRINTS_TAKEN,
        "Caso Fue Actualizado para Mostrar que se Tomaron las Huellas Digitales",
        "As of {date}, fingerprints relating to your {form}, Receipt Number {receipt}, have "
        "been applied to your case. If you move, go to www.uscis.gov/addresschange to give "
        "us your new mailing address.",
        "Desde el {date}, las huellas digitales relacionadas con su {form}, Número de Recibo "
        "{receipt}, se aplicaron a su caso. Si se muda, visite www.uscis.gov/addresschange "
        "para darnos su nueva dirección postal.",
        "We took your fingerprints and biometrics for your {form}.",
        "Tomamos sus huellas digitales y datos biométricos para su {form}.",
        needs="biometrics", after=(_BIO_SCHEDULED,),
    ),
    _Status(
        1, _BIO_RESCHEDULE,
        "Se Recibió la Solicitud para Reprogramar mi Cita",
        "On {date}, we received your request to reschedule your appointment for your {form}, "
        "Receipt Number {receipt}. We will send you a new appointment notice.",
        "El {date}, recibimos su solicitud para reprogramar su cita para su {form}, Número de "
        "Recibo {receipt}. Le enviaremos un nuevo aviso de cita.",
        "We received your request to reschedule your appointment.",
        "Recibimos su solicitud para reprogramar su cita.",
        needs="biometrics", after=(_BIO_SCHEDULED,),
    ),
    # in review
    _Status(
        5, _ACTIVE_REVIEW,
        "Caso Está Siendo Revisado Activamente por USCIS",
        "As of {date}, we are actively reviewing your {form}, Receipt Number {receipt}. Our "
        "records show nothing is outstanding at this time. We will let you know if we need "
        f"anything from you. {_ADDRESS_EN}",
        "Desde el {date}, estamos revisando activamente su {form}, Número de Recibo "
        "{receipt}. Nuestros registros muestran que no hay nada pendiente en este momento. "
        f"Le informaremos si necesitamos algo de usted. {_ADDRESS_ES}",
        "We began actively reviewing your {form}.", "Comenzamos a revisar activamente su {form}.",
    ),
    _Status(
        5, "Expedite Request Received", "Se Recibió la Solicitud de Trámite Acelerado",
        "On {date}, we received your request to expedite your {form}, Receipt Number "
        "{receipt}. We will review your request and let you know our decision.",
        "El {date}, recibimos su solicitud para acelerar el trámite de su {form}, Número de "
        "Recibo {receipt}. Revisaremos su solicitud y le informaremos nuestra decisión.",
        "We received your request to expedite your {form}.",
        "Recibimos su solicitud para acelerar el trámite de su {form}.",
    ),
    _Status(
        5, "Request For Premium Processing Services Was Received",
        "Se Recibió la Solicitud de Servicios de Procesamiento Prioritario",
        "On {date}, we received your request for premium processing services for your {form}, "
        "Receipt Number {receipt}. We will process your case within the premium processing "
        'time frame. Learn more at <a href="https://www.uscis.gov/forms/all-forms/'
        'how-do-i-request-premium-processing">www.uscis.gov</a>.',
        "El {date}, recibimos su solicitud de servicios de procesamiento prioritario para su "
        "{form}, Número de Recibo {receipt}. Procesaremos su caso dentro del plazo de "
        'procesamiento prioritario. Obtenga más información en <a href="https://www.uscis.gov'
        '/forms/all-forms/how-do-i-request-premium-processing">www.uscis.gov</a>.',
        "We received your request for premium processing services.",
        "Recibimos su solicitud de servicios de procesamiento prioritario.",
        needs="premium",
    ),
    _Status(
        5, _CORRESPONDENCE,
        "Se Recibió Correspondencia y USCIS la Está Revisando",
        "On {date}, we received your correspondence for your {form}, Receipt Number "
        "{receipt}. We are reviewing it and will send you a notice if we need anything from "
        "you.",
        "El {date}, recibimos su correspondencia sobre su {form}, Número de Recibo {receipt}. "
        "La estamos revisando y le enviaremos un aviso si necesitamos algo de usted.",
        "We received your correspondence and are reviewing it.",
        "Recibimos su correspondencia y la estamos revisando.",
    ),
    # transferred
    _Status(
        3, _NEW_OFFICE,
        "Caso Fue Transferido y Una Nueva Oficina Tiene Jurisdicción",
        "On {date}, we transferred your {form}, Receipt Number {receipt}, to another USCIS "
        "office, which now has jurisdiction over your case. We sent you a notice that "
        f"explains why. {_NOTICE_EN}",
        "El {date}, transferimos su {form}, Número de Recibo {receipt}, a otra oficina de "
        "USCIS, que ahora tiene jurisdicción sobre su caso. Le enviamos un aviso que explica "
        f"el motivo. {_NOTICE_ES}",
        "We transferred your {form}, to another office.", "Transferimos su {form}, a otra oficina.",
    ),
    _Status(
        3, "Case Transferred To Another Office", "Caso Transferido a Otra Oficina",
        "On {date}, we transferred your {form}, Receipt Number {receipt}, to another office "
        "to balance our workload. The office now processing your case will send you any "
        'notices. See processing times at <a href="https://www.uscis.gov/processing-times">'
        "www.uscis.gov/processing-times</a>.",
        "El {date}, transferimos su {form}, Número de Recibo {receipt}, a otra oficina para "
        "equilibrar nuestra carga de trabajo. La oficina que ahora procesa su caso le enviará "
        'cualquier aviso. Consulte los tiempos de procesamiento en <a href="https://www.uscis'
        '.gov/processing-times">www.uscis.gov/processing-times</a>.',
        "We transferred your {form}, to another office to balance our workload.",
        "Transferimos su {form}, a otra oficina para equilibrar nuestra carga de trabajo.",
    ),
    _Status(
        3, "Case Was Transferred To Schedule An Interview",
        "Caso Fue Transferido para Programar una Entrevista",
        "On {date}, we transferred your {form}, Receipt Number {receipt}, to a local office so "
        "that we can schedule your interview. We will send you an interview notice.",
        "El {date}, transferimos su {form}, Número de Recibo {receipt}, a una oficina local "
        "para programar su entrevista. Le enviaremos un aviso de entrevista.",
        "We transferred your {form}, to a local office to schedule your interview.",
        "Transferimos su {form}, a una oficina local para programar su entrevista.",
        needs="interview",
    ),
    # action needed
    _Status(
        2, _RFE_SENT, "Se Envió una Solicitud de Evidencia Adicional",
        "On {date}, we sent a request for additional evidence for your {form}, Receipt Number "
        "{receipt}. The request for evidence explains what we need from you. We will not take "
        "action on your case until we receive the evidence or the deadline to submit it "
        "expires. Please follow the instructions in the request for evidence.",
        "El {date}, le enviamos una solicitud de evidencia adicional para su {form}, Número "
        "de Recibo {receipt}. La solicitud de evidencia explica lo que necesitamos de usted. "
        "No tomaremos ninguna acción en su caso hasta recibir la evidencia o hasta que venza "
        "el plazo para presentarla. Por favor, siga las instrucciones de la solicitud.",
        "We sent you a request for additional evidence.",
        "Le enviamos una solicitud de evidencia adicional.",
    ),
    _Status(
        2, "Request for Initial Evidence Was Sent",
        "Se Envió una Solicitud de Evidencia Inicial",
        "On {date}, we sent a request for initial evidence for your {form}, Receipt Number "
        "{receipt}. The request explains what we need from you. Please follow the "
        'instructions in the request. Questions? Visit <a href="https://www.uscis.gov/'
        'contactcenter">www.uscis.gov/contactcenter</a>.',
        "El {date}, le enviamos una solicitud de evidencia inicial para su {form}, Número de "
        "Recibo {receipt}. La solicitud explica lo que necesitamos de usted. Por favor, siga "
        'las instrucciones de la solicitud. ¿Preguntas? Visite <a href="https://www.uscis.gov/'
        'contactcenter">www.uscis.gov/contactcenter</a>.',
        "We sent you a request for initial evidence.",
        "Le enviamos una solicitud de evidencia inicial.",
    ),
    _Status(
        2, _RFE_RESPONSE,
        "Se Recibió la Respuesta a la Solicitud de Evidencia de USCIS",
        "On {date}, we received your response to our request for evidence for your {form}, "
        "Receipt Number {receipt}. USCIS has begun working on your case again. We will send "
        "you a decision or notify you if we need something from you.",
        "El {date}, recibimos su respuesta a nuestra solicitud de evidencia para su {form}, "
        "Número de Recibo {receipt}. USCIS comenzó a trabajar en su caso nuevamente. Le "
        "enviaremos una decisión o le notificaremos si necesitamos algo de usted.",
        "We received your response to our request for evidence.",
        "Recibimos su respuesta a nuestra solicitud de evidencia.",
        after=(_RFE_SENT,),
    ),
    _Status(
        2, "Notice Of Intent To Deny Was Sent",
        "Se Envió un Aviso de Intención de Denegar",
        "On {date}, we sent you a notice of intent to deny your {form}, Receipt Number "
        "{receipt}. The notice explains why we intend to deny your case and how you can "
        f"respond. {_NOTICE_EN}",
        "El {date}, le enviamos un aviso de intención de denegar su {form}, Número de Recibo "
        "{receipt}. El aviso explica por qué tenemos la intención de denegar su caso y cómo "
        f"puede responder. {_NOTICE_ES}",
        "We sent you a notice of intent to deny your {form}.",
        "Le enviamos un aviso de intención de denegar su {form}.",
    ),
    # interview
    _Status(
        4, _READY_FOR_INTERVIEW,
        "Caso Está Listo para Programar una Entrevista",
        "As of {date}, we are ready to schedule your {form}, Receipt Number {receipt}, for an "
        "interview. We will send you an interview notice when your interview is scheduled.",
        "Desde el {date}, estamos listos para programar una entrevista para su {form}, Número "
        "de Recibo {receipt}. Le enviaremos un aviso cuando su entrevista esté programada.",
        "We were ready to schedule an interview for your {form}.",
        "Estábamos listos para programar una entrevista para su {form}.",
        needs="interview",
    ),
    _Status(
        4, _INTERVIEW_SCHEDULED, "Se Programó la Entrevista",
        "On {date}, we scheduled an interview for your {form}, Receipt Number {receipt}. We "
        f"sent you an interview notice. {_NOTICE_EN} Find your local office at "
        '<a href="https://www.uscis.gov/about-us/find-a-uscis-office/field-offices">'
        "www.uscis.gov</a>.",
        "El {date}, programamos una entrevista para su {form}, Número de Recibo {receipt}. Le "
        f"enviamos un aviso de entrevista. {_NOTICE_ES} Encuentre su oficina local en "
        '<a href="https://www.uscis.gov/about-us/find-a-uscis-office/field-offices">'
        "www.uscis.gov</a>.",
        "We scheduled an interview for your {form}.",
        "Programamos una entrevista para su {form}.",
        needs="interview",
    ),
    _Status(
        4, "Interview Was Rescheduled", "Se Reprogramó la Entrevista",
        "On {date}, we rescheduled the interview for your {form}, Receipt Number {receipt}. "
        f"We sent you a new interview notice. {_NOTICE_EN}",
        "El {date}, reprogramamos la entrevista para su {form}, Número de Recibo {receipt}. "
        f"Le enviamos un nuevo aviso de entrevista. {_NOTICE_ES}",
        "We rescheduled the interview for your {form}.",
        "Reprogramamos la entrevista para su {form}.",
        needs="interview", after=(_INTERVIEW_SCHEDULED,),
    ),
    _Status(
        4, _INTERVIEW_DONE,
        "Se Completó la Entrevista y Mi Caso Debe Ser Revisado",
        "On {date}, we interviewed you for your {form}, Receipt Number {receipt}, and your "
        "case must be reviewed. We will send you a decision or notify you if we need "
        "something from you.",
        "El {date}, lo entrevistamos sobre su {form}, Número de Recibo {receipt}, y su caso "
        "debe ser revisado. Le enviaremos una decisión o le notificaremos si necesitamos algo "
        "de usted.",
        "We completed your interview for your {form}.",
        "Completamos su entrevista para su {form}.",
        needs="interview", after=(_INTERVIEW_SCHEDULED,),
    ),
    # approved
    _Status(
        6, _APPROVED, "Caso Fue Aprobado",
        "On {date}, we approved your {form}, Receipt Number {receipt}. We sent you an "
        f"approval notice. {_NOTICE_EN} {_ADDRESS_EN}",
        "El {date}, aprobamos su {form}, Número de Recibo {receipt}. Le enviamos un aviso de "
        f"aprobación. {_NOTICE_ES} {_ADDRESS_ES}",
        "We approved your {form}.", "Aprobamos su {form}.",
    ),
    _Status(
        6, "Case Was Approved And My Decision Was Emailed",
        "Caso Fue Aprobado y Mi Decisión Fue Enviada por Correo Electrónico",
        "On {date}, we approved your {form}, Receipt Number {receipt}, and emailed you an "
        f"approval notice. {_NOTICE_EN}",
        "El {date}, aprobamos su {form}, Número de Recibo {receipt}, y le enviamos un aviso de "
        f"aprobación por correo electrónico. {_NOTICE_ES}",
        "We approved your {form}, and emailed you the decision.",
        "Aprobamos su {form}, y le enviamos la decisión por correo electrónico.",
    ),
    _Status(
        6, "Case Approval Was Affirmed", "Se Confirmó la Aprobación del Caso",
        "On {date}, we affirmed the approval of your {form}, Receipt Number {receipt}. We sent "
        f"you a notice that explains our decision. {_NOTICE_EN}",
        "El {date}, confirmamos la aprobación de su {form}, Número de Recibo {receipt}. Le "
        f"enviamos un aviso que explica nuestra decisión. {_NOTICE_ES}",
        "We affirmed the approval of your {form}.", "Confirmamos la aprobación de su {form}.",
        after=(_APPROVED,),
    ),
    _Status(
        6, _SENT_TO_STATE,
        "Caso Fue Enviado al Departamento de Estado",
        "On {date}, we sent your {form}, Receipt Number {receipt}, to the Department of "
        "State's National Visa Center for visa processing. The National Visa Center will "
        'contact you about the next steps. Learn more at <a href="https://www.uscis.gov/'
        'green-card/green-card-processes-and-procedures/consular-processing">www.uscis.gov'
        "</a>.",
        "El {date}, enviamos su {form}, Número de Recibo {receipt}, al Centro Nacional de "
        "Visas del Departamento de Estado para el trámite de la visa. El Centro Nacional de "
        'Visas se comunicará con usted sobre los próximos pasos. Más información en <a href="'
        "https://www.uscis.gov/green-card/green-card-processes-and-procedures/"
        'consular-processing">www.uscis.gov</a>.',
        "We sent your {form}, to the Department of State.",
        "Enviamos su {form}, al Departamento de Estado.",
        needs="consular", after=(_APPROVED,),
    ),
    # card or document
    _Status(
        7, _CARD_PRODUCED, "Nueva Tarjeta Está Siendo Producida",
        "On {date}, we ordered your new card for Receipt Number {receipt}, and will mail it "
        "to the address you gave us. If you move, go to www.uscis.gov/addresschange to give "
        "us your new mailing address.",
        "El {date}, ordenamos su nueva tarjeta para el Número de Recibo {receipt}, y la "
        "enviaremos por correo a la dirección que nos proporcionó. Si se muda, visite "
        "www.uscis.gov/addresschange para darnos su nueva dirección postal.",
        "We ordered your new card.", "Ordenamos su nueva tarjeta.",
        needs="card", after=(_APPROVED,),
    ),
    _Status(
        7, _CARD_MAILED, "Tarjeta Me Fue Enviada por Correo",
        "On {date}, we mailed your new card for your {form}, Receipt Number {receipt}, to the "
        "address you gave us. The Post Office should deliver it within 30 days. If you do not "
        f"receive your card, visit {_CONTACT_LINK}.",
        "El {date}, le enviamos por correo su nueva tarjeta para su {form}, Número de Recibo "
        "{receipt}, a la dirección que nos proporcionó. La Oficina de Correos debería "
        f"entregarla dentro de 30 días. Si no recibe su tarjeta, visite {_CONTACT_LINK}.",
        "We mailed your new card.", "Le enviamos su nueva tarjeta por correo.",
        needs="card", after=(_APPROVED, _CARD_PRODUCED),
    ),
    _Status(
        7, _CARD_DELIVERED,
        "Tarjeta Me Fue Entregada por la Oficina de Correos",
        "On {date}, the Post Office delivered your new card for Receipt Number {receipt}, to "
        "the address that you gave us. If you did not receive your card, please contact the "
        "USCIS Contact Center.",
        "El {date}, la Oficina de Correos entregó su nueva tarjeta para el Número de Recibo "
        "{receipt}, en la dirección que nos proporcionó. Si no recibió su tarjeta, comuníquese "
        "con el Centro de Contacto de USCIS.",
        "The Post Office delivered your new card.",
        "La Oficina de Correos entregó su nueva tarjeta.",
        needs="card", after=(_APPROVED, _CARD_PRODUCED, _CARD_MAILED),
    ),
    _Status(
        7, _PAROLE_PRODUCED, "Se Produjo el Documento de Permiso Adelantado",
        "On {date}, we produced your advance parole document for your {form}, Receipt Number "
        "{receipt}. We will mail it to the address you gave us.",
        "El {date}, produjimos su documento de permiso adelantado para su {form}, Número de "
        "Recibo {receipt}. Lo enviaremos por correo a la dirección que nos proporcionó.",
        "We produced your advance parole document.",
        "Produjimos su documento de permiso adelantado.",
        needs="travel", after=(_APPROVED,),
    ),
    _Status(
        7, _TRAVEL_MAILED, "Se Envió el Documento de Viaje por Correo",
        "On {date}, we mailed your travel document for your {form}, Receipt Number {receipt}, "
        "to the address you gave us.",
        "El {date}, le enviamos por correo su documento de viaje para su {form}, Número de "
        "Recibo {receipt}, a la dirección que nos proporcionó.",
        "We mailed your travel document.", "Le enviamos su documento de viaje por correo.",
        needs="travel", after=(_APPROVED, _PAROLE_PRODUCED),
    ),
    # returned
    _Status(
        3, "Notice Was Returned To USCIS Because The Post Office Could Not Deliver It",
        "Aviso Fue Devuelto a USCIS Porque la Oficina de Correos No Pudo Entregarlo",
        "On {date}, the Post Office returned a notice we sent you for your {form}, Receipt "
        "Number {receipt}, because they could not deliver it. To update your address, go to "
        f"{_ADDRESS_LINK}.",
        "El {date}, la Oficina de Correos nos devolvió un aviso que le enviamos sobre su "
        "{form}, Número de Recibo {receipt}, porque no pudo entregarlo. Para actualizar su "
        f"dirección, visite {_ADDRESS_LINK}.",
        "The Post Office returned a notice we sent you.",
        "La Oficina de Correos nos devolvió un aviso que le enviamos.",
    ),
    _Status(
        8, "Card Was Returned To USCIS", "Tarjeta Fue Devuelta a USCIS",
        "On {date}, the Post Office returned your new card for Receipt Number {receipt}, "
        "because they could not deliver it. To ask us to resend it, contact the USCIS Contact "
        f"Center at {_CONTACT_LINK}.",
        "El {date}, la Oficina de Correos nos devolvió su nueva tarjeta para el Número de "
        "Recibo {receipt}, porque no pudo entregarla. Para pedirnos que la reenviemos, "
        f"comuníquese con el Centro de Contacto de USCIS en {_CONTACT_LINK}.",
        "The Post Office returned your new card to us.",
        "La Oficina de Correos nos devolvió su nueva tarjeta.",
        needs="card", after=(_APPROVED, _CARD_PRODUCED, _CARD_MAILED),
    ),
    _Status(
        8, "Document Was Returned To USCIS", "Documento Fue Devuelto a USCIS",
        "On {date}, the Post Office returned the document we mailed you for your {form}, "
        "Receipt Number {receipt}, because they could not deliver it. To ask us to resend it, "
        "contact the USCIS Contact Center.",
        "El {date}, la Oficina de Correos nos devolvió el documento que le enviamos para su "
        "{form}, Número de Recibo {receipt}, porque no pudo entregarlo. Para pedirnos que lo "
        "reenviemos, comuníquese con el Centro de Contacto de USCIS.",
        "The Post Office returned your document to us.",
        "La Oficina de Correos nos devolvió su documento.",
        needs="travel", after=(_APPROVED, _PAROLE_PRODUCED, _TRAVEL_MAILED),
    ),
    # denied
    _Status(
        6, "Case Was Denied", "Caso Fue Denegado",
        "On {date}, we denied your {form}, Receipt Number {receipt}. We sent you a decision "
        "notice that explains why we denied your case and any options you may have. "
        f"{_NOTICE_EN}",
        "El {date}, denegamos su {form}, Número de Recibo {receipt}. Le enviamos un aviso de "
        "decisión que explica por qué denegamos su caso y las opciones que pueda tener. "
        f"{_NOTICE_ES}",
        "We denied your {form}.", "Denegamos su {form}.",
    ),
    _Status(
        0, "Case Rejected Because I Sent An Incorrect Fee",
        "Caso Rechazado Porque Envié una Tarifa Incorrecta",
        "On {date}, we rejected your {form}, Receipt Number {receipt}, because the fee you "
        "sent was incorrect. We returned your case with a notice that explains why. Check the "
        'current fees at <a href="https://www.uscis.gov/fees">www.uscis.gov/fees</a>.',
        "El {date}, rechazamos su {form}, Número de Recibo {receipt}, porque la tarifa que "
        "envió era incorrecta. Le devolvimos su caso con un aviso que explica el motivo. "
        'Consulte las tarifas vigentes en <a href="https://www.uscis.gov/fees">'
        "www.uscis.gov/fees</a>.",
        "We rejected your {form}, because the fee was incorrect.",
        "Rechazamos su {form}, porque la tarifa era incorrecta.",
        after=(_LOCKBOX,),
    ),
    _Status(
        6, "Case Approval Was Revoked", "Se Revocó la Aprobación del Caso",
        "On {date}, we revoked the approval of your {form}, Receipt Number {receipt}. We sent "
        f"you a notice that explains our decision. {_NOTICE_EN}",
        "El {date}, revocamos la aprobación de su {form}, Número de Recibo {receipt}. Le "
        f"enviamos un aviso que explica nuestra decisión. {_NOTICE_ES}",
        "We revoked the approval of your {form}.", "Revocamos la aprobación de su {form}.",
        needs="petition", after=(_APPROVED,),
    ),
    # withdrawn
    _Status(
        6, "Withdrawal Acknowledgement Notice Was Sent",
        "Se Envió el Aviso de Reconocimiento de Retiro",
        "On {date}, we received your request to withdraw your {form}, Receipt Number "
        "{receipt}, and sent you a notice acknowledging the withdrawal.",
        "El {date}, recibimos su solicitud para retirar su {form}, Número de Recibo {receipt}, "
        "y le enviamos un aviso de reconocimiento del retiro.",
        "We acknowledged the withdrawal of your {form}.",
        "Reconocimos el retiro de su {form}.",
    ),
    _Status(
        6, "Case Was Administratively Closed", "Caso Fue Cerrado Administrativamente",
        "On {date}, we administratively closed your {form}, Receipt Number {receipt}. We sent "
        f"you a notice that explains why. {_NOTICE_EN}",
        "El {date}, cerramos administrativamente su {form}, Número de Recibo {receipt}. Le "
        f"enviamos un aviso que explica el motivo. {_NOTICE_ES}",
        "We administratively closed your {form}.", "Cerramos administrativamente su {form}.",
    ),
)  # fmt: skip

_BY_TITLE: dict[str, _Status] = {status.title_en: status for status in _STATUSES}
_FORM_BY_CODE: dict[str, _Form] = {form.code: form for form in _FORMS}

_DETOURS: tuple[tuple[str, ...], ...] = (
    (_BIO_SCHEDULED, _FINGERPRINTS_TAKEN),
    (_RFE_SENT, _RFE_RESPONSE),
    (_NEW_OFFICE,),
    (_INTERVIEW_SCHEDULED, _INTERVIEW_DONE),
    (_ACTIVE_REVIEW,),
)
"""Optional episodes a case may go through before its current status, in life order."""


@dataclass(frozen=True)
class _Script:
    """Choices forced on the generator; ``None`` leaves a choice to the receipt's random stream.

    ``title`` wins over ``stage``; ``submitted`` is a naive US Eastern datetime and
    ``span_days`` the days from filing to the current status.
    """

    has_history: bool | None = None
    stage: str | None = None
    form: str | None = None
    title: str | None = None
    submitted: datetime | None = None
    span_days: int | None = None


_REPORTED: dict[str, _Script] = {
    "EAC9999103403": _Script(
        form="I-130", title=_APPROVED, submitted=datetime(2023, 9, 5, 14, 28, 46), span_days=0
    ),
    "EAC9999103402": _Script(form="I-130", title="Case Approval Was Affirmed"),
}
"""The two sandbox answers reported by clients (uscis-api.md, "Staging receipts")."""

_STAGING_SCRIPTS: dict[str, _Script] = {
    receipt: replace(
        _REPORTED.get(receipt, _Script()),
        has_history=receipt in STAGING_RECEIPTS_WITH_HISTORY,
        stage=STAGES[index % len(STAGES)],
    )
    for index, receipt in enumerate(STAGING_RECEIPTS)
}
"""Staging receipts keep the history split of the reference and cycle through the stages,
so that every stage appears at least four times among the 50."""


def _date_en(day: date) -> str:
    return f"{_MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def _date_es(day: date) -> str:
    return f"{day.day} de {_MONTHS_ES[day.month - 1]} de {day.year}"


def _texts(status: _Status, form: _Form, receipt: str, day: date, *, done: bool) -> tuple[str, str]:
    """English and Spanish text of ``status`` on ``day``: its description, or with ``done``
    its history line."""
    en, es = (status.done_en, status.done_es) if done else (status.desc_en, status.desc_es)
    return (
        en.format(date=_date_en(day), form=f"Form {form.code}, {form.name_en}", receipt=receipt),
        es.format(
            date=_date_es(day), form=f"Formulario {form.code}, {form.name_es}", receipt=receipt
        ),
    )


def _choose_status(rng: random.Random, script: _Script) -> _Status:
    if script.title is not None:
        return _BY_TITLE[script.title]
    stage = script.stage if script.stage is not None else rng.choice(STAGES)
    return rng.choice([status for status in _STATUSES if status.stage == stage])


def _path_to(rng: random.Random, current: _Status, form: _Form) -> list[_Status]:
    """A plausible sequence of statuses ending with ``current``, oldest first."""
    path = [] if current.phase == 0 else [_BY_TITLE[_RECEIPT_SENT]]
    for episode in _DETOURS:
        steps = [_BY_TITLE[title] for title in episode]
        fits = all(step.fits(form) for step in steps) and steps[0].phase < current.phase
        if fits and rng.random() < 0.5:
            path.extend(steps)
    path.extend(_BY_TITLE[title] for title in current.after)
    path.append(current)
    return path


def _office_hours(rng: random.Random, day: date) -> datetime:
    """A naive US Eastern datetime on ``day`` between 07:00:00 and 19:59:59."""
    return datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59), rng.randint(0, 59)))


def _timeline(
    rng: random.Random, script: _Script, steps: int
) -> tuple[datetime, datetime, list[date]]:
    """Filing and last-change datetimes (naive US Eastern) and one date per step, in order.

    A case not touched since the day it was filed keeps ``modified == submitted``.
    """
    submitted = script.submitted
    if submitted is None:
        filing_days = (_LATEST_FILING - _EARLIEST_FILING).days
        submitted = _office_hours(rng, _EARLIEST_FILING + timedelta(rng.randint(0, filing_days)))
    span = script.span_days
    if span is None:
        room = (_LATEST_EVENT - submitted.date()).days
        span = rng.randint(0, min(room, _MAX_DAYS_PER_STEP * (steps - 1)))
    middle = sorted(rng.randint(0, span) for _ in range(steps - 2))
    offsets = [0, *middle, span] if steps > 1 else [span]
    dates = [submitted.date() + timedelta(offset) for offset in offsets]
    modified = submitted if span == 0 else _office_hours(rng, dates[-1])
    return submitted, modified, dates


def _generate(receipt: str, script: _Script) -> dict[str, Any]:
    """The one case generator: everything not forced by ``script`` is drawn from a random
    stream seeded with ``receipt``."""
    rng = random.Random(f"casewatch-sandbox:{receipt}")
    has_history = script.has_history if script.has_history is not None else rng.random() < 0.5
    current = _choose_status(rng, script)
    if script.form is not None:
        form = _FORM_BY_CODE[script.form]
    else:
        form = rng.choice([form for form in _FORMS if current.fits(form)])
    path = _path_to(rng, current, form)
    submitted, modified, dates = _timeline(rng, script, len(path))

    def texts(status: _Status, day: date, *, done: bool) -> tuple[str, str]:
        return _texts(status, form, receipt, day, done=done)

    history: list[dict[str, str]] | None = None
    if has_history:
        kept = rng.randint(1, min(_MAX_HISTORY, len(path)))
        us_dates = rng.random() < 0.3
        history = []
        for status, day in zip(path[-kept:], dates[-kept:], strict=True):
            done_en, done_es = texts(status, day, done=True)
            shown = day.strftime("%m/%d/%Y" if us_dates and rng.random() < 0.5 else "%Y-%m-%d")
            history.append(
                {"date": shown, "completed_text_en": done_en, "completed_text_es": done_es}
            )
        if rng.random() < 0.3:
            rng.shuffle(history)
    desc_en, desc_es = texts(current, dates[-1], done=False)
    case: dict[str, Any] = {"receiptNumber": receipt, "formType": form.code}
    if not receipt.startswith("IOE"):
        case["submittedDate"] = submitted.strftime("%m-%d-%Y %H:%M:%S")
        case["modifiedDate"] = modified.strftime("%m-%d-%Y %H:%M:%S")
    case |= {
        "current_case_status_text_en": current.title_en,
        "current_case_status_desc_en": desc_en,
        "current_case_status_text_es": current.title_es,
        "current_case_status_desc_es": desc_es,
        "hist_case_status": history,
    }
    return {"case_status": case, "message": SUCCESS_MESSAGE}


def staging_case(receipt: str) -> dict[str, Any]:
    """The 200 payload the sandbox returns for a staging receipt (uscis-api.md, "Case status").

    Receipts "with history data" get 1 to 8 history entries, the others
    ``hist_case_status: None`` (JSON null). EAC9999103403 and EAC9999103402 give the two
    answers reported in uscis-api.md; the rest is invented but fixed per receipt.

    Raises:
        KeyError: ``receipt`` is not one of ``STAGING_RECEIPTS``.
    """
    return _generate(receipt, _STAGING_SCRIPTS[receipt])


def synthetic_case(receipt: str) -> dict[str, Any] | None:
    """A deterministic invented 200 payload for any well-formed receipt, or ``None`` (a 404).

    Receipts ending in ``0000`` are unknown (``None``); staging receipts give the same
    payload as ``staging_case``; IOE receipts have no ``submittedDate``/``modifiedDate``
    (uscis-api.md, "Quirks a parser must survive").

    Raises:
        ValueError: ``receipt`` does not match ``RECEIPT_PATTERN`` in full.
    """
    if not RECEIPT_PATTERN.fullmatch(receipt):
        raise ValueError(f"malformed receipt number: {receipt!r}")
    if receipt.endswith("0000"):
        return None
    return _generate(receipt, _STAGING_SCRIPTS.get(receipt, _Script()))


def find_case(receipt: str, *, synthetic: bool) -> dict[str, Any] | None:
    """The payload for a well-formed ``receipt``, or ``None`` when the sandbox does not know it.

    Without ``synthetic`` only the 50 staging receipts are known, as on the USCIS sandbox.

    Raises:
        ValueError: ``synthetic`` is set and ``receipt`` is malformed.
    """
    if synthetic:
        return synthetic_case(receipt)
    return staging_case(receipt) if receipt in _STAGING_SCRIPTS else None


# --- Cases that move (the sandbox's control plane, not part of the API) ---

_RECEIVED_NEXT = (_BIO_SCHEDULED, _ACTIVE_REVIEW)
_REVIEW_NEXT = (_READY_FOR_INTERVIEW, _RFE_SENT, _APPROVED)
_APPROVED_NEXT = (_CARD_PRODUCED, _PAROLE_PRODUCED, _SENT_TO_STATE)

_NEXT: dict[str, tuple[str, ...]] = {
    # received: biometrics for the forms that take them, else straight to review
    "Case Was Received": _RECEIVED_NEXT,
    _RECEIPT_SENT: _RECEIVED_NEXT,
    "Fees Were Waived": _RECEIVED_NEXT,
    _LOCKBOX: (_RECEIPT_SENT,),
    # biometrics
    _BIO_SCHEDULED: (_FINGERPRINTS_TAKEN,),
    _BIO_RESCHEDULE: (_BIO_SCHEDULED,),
    _FINGERPRINTS_TAKEN: (_ACTIVE_REVIEW,),
    # in review: an interview (forms that have one), a request for evidence, or a decision
    _ACTIVE_REVIEW: _REVIEW_NEXT,
    "Expedite Request Received": _REVIEW_NEXT,
    "Request For Premium Processing Services Was Received": _REVIEW_NEXT,
    _CORRESPONDENCE: _REVIEW_NEXT,
    # transferred
    _NEW_OFFICE: (_ACTIVE_REVIEW,),
    "Case Transferred To Another Office": (_ACTIVE_REVIEW,),
    "Case Was Transferred To Schedule An Interview": (_INTERVIEW_SCHEDULED,),
    # action needed: the applicant answers, then the case is reviewed again
    _RFE_SENT: (_RFE_RESPONSE,),
    "Request for Initial Evidence Was Sent": (_RFE_RESPONSE,),
    _RFE_RESPONSE: (_ACTIVE_REVIEW,),
    "Notice Of Intent To Deny Was Sent": (_CORRESPONDENCE,),
    # interview
    _READY_FOR_INTERVIEW: (_INTERVIEW_SCHEDULED,),
    _INTERVIEW_SCHEDULED: (_INTERVIEW_DONE,),
    "Interview Was Rescheduled": (_INTERVIEW_DONE,),
    _INTERVIEW_DONE: (_APPROVED,),
    # approved: the card or travel document, or the Department of State, where they apply
    _APPROVED: _APPROVED_NEXT,
    "Case Was Approved And My Decision Was Emailed": _APPROVED_NEXT,
    "Case Approval Was Affirmed": _APPROVED_NEXT,
    # card or document
    _CARD_PRODUCED: (_CARD_MAILED,),
    _CARD_MAILED: (_CARD_DELIVERED,),
    _PAROLE_PRODUCED: (_TRAVEL_MAILED,),
    # returned: the address was fixed, the case goes on
    "Notice Was Returned To USCIS Because The Post Office Could Not Deliver It": (_ACTIVE_REVIEW,),
    "Card Was Returned To USCIS": (_CARD_MAILED,),
    "Document Was Returned To USCIS": (_TRAVEL_MAILED,),
}
"""Plausible next statuses of a status title (case-stages.md's stages, in life order:
received -> biometrics -> in review -> interview -> approved -> card or document produced
-> mailed -> delivered). Only the candidates that fit the case's form count; a title with
none is final: denied, withdrawn, card delivered, travel document mailed, sent to the
Department of State, or approved for a form that produces no card or document."""


def _next_candidates(case: dict[str, Any]) -> list[_Status]:
    """The statuses ``case`` (a ``case_status`` object) may move to; empty if it is final."""
    form = _FORM_BY_CODE.get(case.get("formType", ""))
    titles = _NEXT.get(case.get("current_case_status_text_en", ""), ())
    return [
        _BY_TITLE[title] for title in titles if form is not None and _BY_TITLE[title].fits(form)
    ]


def is_final(payload: dict[str, Any]) -> bool:
    """Whether the case of a 200 ``payload`` of this sandbox can move no further."""
    return not _next_candidates(payload["case_status"])


def advance_case(payload: dict[str, Any], *, step: int, now: datetime) -> dict[str, Any] | None:
    """The payload of a case after it moved to a plausible next status, or ``None`` if final.

    The next status is one of the fitting ``_NEXT`` candidates, drawn from a random stream
    seeded with the receipt and ``step`` alone, so the same sequence of advances gives the
    same cases. The new payload gets the new titles and descriptions (dated ``now``),
    ``modifiedDate`` = ``now`` (except IOE receipts, which have none), and, when the case
    has a history, one more entry for the new status dated ``now`` (``YYYY-MM-DD``) put
    first, so that a parser sorting newest first (stable for equal dates) shows it on top
    even after several moves on one day; a history of null stays null, as on the staging
    receipts "without history data". ``payload`` is not changed.

    Args:
        payload: a 200 payload of this sandbox (``staging_case``, ``synthetic_case`` or a
            previous ``advance_case``).
        step: how many times this receipt moved before (0 for the first advance).
        now: naive US Eastern datetime of the move (the sandbox clock's now).
    """
    case: dict[str, Any] = payload["case_status"]
    candidates = _next_candidates(case)
    if not candidates:
        return None
    receipt: str = case["receiptNumber"]
    status = random.Random(f"casewatch-sandbox-advance:{receipt}:{step}").choice(candidates)
    form = _FORM_BY_CODE[case["formType"]]
    day = now.date()
    desc_en, desc_es = _texts(status, form, receipt, day, done=False)
    moved = dict(case)
    if "modifiedDate" in moved:
        moved["modifiedDate"] = now.strftime("%m-%d-%Y %H:%M:%S")
    moved |= {
        "current_case_status_text_en": status.title_en,
        "current_case_status_desc_en": desc_en,
        "current_case_status_text_es": status.title_es,
        "current_case_status_desc_es": desc_es,
    }
    if case["hist_case_status"] is not None:
        done_en, done_es = _texts(status, form, receipt, day, done=True)
        entry = {
            "date": day.isoformat(),
            "completed_text_en": done_en,
            "completed_text_es": done_es,
        }
        moved["hist_case_status"] = [entry, *case["hist_case_status"]]
    return {"case_status": moved, "message": payload["message"]}
