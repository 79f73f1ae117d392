"""Health record formats recognised by structure: HL7 v2, FHIR, C-CDA, DICOM."""

from __future__ import annotations

import json

from tests.classifier.formats.conftest import MRN, NAME, SSN, drain, write_dicom

ADT = (
    "MSH|^~\\&|EPIC|MVH|LAB|MVH|202312210930||ADT^A01|7329561482|P|2.5.1\r"
    f"PID|1||{MRN}^^^MVH^MR~{SSN}^^^SSA^SS||QUEXLEY^ROSALIND||19610402|F|||"
    "1 Main St^^Springfield^MO^65801||(417) 555-0142|||||ACCT775|\r"
    "PV1|1|I|4W^412^A|E|||2440362350^THOMPSON^ANGELA\r"
    "DG1|1||E11.9^Type 2 diabetes mellitus without complications^I10||20231221|A\r"
    "OBX|1|TX|NOTE^Progress note||Patient reports polyuria.||||||F\r"
)
ACK = "MSH|^~\\&|LAB|MVH|EPIC|MVH|20240315093000||ACK^R01|1631512631|P|2.5\rMSA|AA|99\r"


def test_hl7_adt_identity_and_health(tmp_path):
    p = tmp_path / "adt.txt"
    p.write_text(ADT, newline="")
    d = drain(p)
    assert d.format == "hl7"
    (rec,) = d.records
    assert rec.patient_identity
    assert rec.identifiers == {
        "mrn": 1,
        "ssn": 1,
        "name": 1,
        "dob": 1,
        "address": 1,
        "zip": 1,
        "phone": 1,
        "account": 1,
    }
    assert rec.health == {"encounter": 1, "diagnosis": 1, "result": 1}
    text = rec.text[0].text
    assert "E11.9 Type 2 diabetes" in text and "polyuria" in text
    assert SSN not in text and "QUEXLEY" not in text  # PID is counted, not handed over


def test_hl7_ack_has_no_identity(tmp_path):
    p = tmp_path / "ack.hl7"
    p.write_text(ACK, newline="")
    (rec,) = drain(p).records
    assert not rec.patient_identity and rec.identifiers == {} and rec.health == {}


def test_hl7_batch_with_lf_and_mllp_gives_one_record_per_message(tmp_path):
    p = tmp_path / "feed.hl7"
    body = ADT.replace("\r", "\n") + ACK.replace("\r", "\r\n")
    p.write_bytes(b"\x0b" + body.encode() + b"\x1c\r")
    recs = drain(p).records
    assert [r.patient_identity for r in recs] == [True, False]
    assert recs[1].where == "line 6"


def test_hl7_custom_separators(tmp_path):
    p = tmp_path / "odd.hl7"
    p.write_text(ADT.replace("|", "#").replace("^", "*").replace("MSH#*~", "MSH#*~"), newline="")
    (rec,) = drain(p).records
    assert rec.patient_identity and rec.identifiers["ssn"] == 1


BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "identifier": [
                    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": SSN.replace("-", "")},
                    {"type": {"coding": [{"code": "MR"}]}, "value": MRN},
                ],
                "name": [{"family": "Quexley", "given": ["Rosalind"]}],
                "telecom": [{"system": "email", "value": "rq@example.org"}],
                "birthDate": "1961-04-02",
                "address": [{"line": ["1 Main St"], "postalCode": "65801"}],
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "subject": {"reference": "Patient/1"},
                "code": {"coding": [{"code": "E11.9"}], "text": "Type 2 diabetes"},
            }
        },
        {"resource": {"resourceType": "Observation", "valueString": "HbA1c 8.1%"}},
    ],
}


def test_fhir_bundle(tmp_path):
    p = tmp_path / "bundle.json"
    p.write_text(json.dumps(BUNDLE))
    d = drain(p)
    assert d.format == "fhir-json"
    (rec,) = d.records
    assert rec.patient_identity
    assert rec.identifiers == {
        "ssn": 1,
        "mrn": 1,
        "name": 1,
        "email": 1,
        "dob": 1,
        "address": 1,
        "zip": 1,
    }
    assert rec.health == {"diagnosis": 1, "result": 1}
    assert "Type 2 diabetes" in rec.text[0].text and "HbA1c 8.1%" in rec.text[0].text


def test_fhir_definitional_resources_are_not_patients(tmp_path):
    for res in (
        {
            "resourceType": "ValueSet",
            "name": "Diabetes codes",
            "compose": {
                "include": [{"concept": [{"code": "E11.9", "display": "Type 2 diabetes"}]}]
            },
        },
        {"resourceType": "Questionnaire", "item": [{"text": "Patient name"}]},
        {"resourceType": "Medication", "code": {"text": "metformin 500 mg"}},
    ):
        p = tmp_path / f"{res['resourceType']}.json"
        p.write_text(json.dumps(res))
        (rec,) = drain(p).records
        assert not rec.patient_identity and rec.health == {} and rec.identifiers == {}


def test_fhir_subject_display_names_a_patient(tmp_path):
    p = tmp_path / "obs.json"
    p.write_text(
        json.dumps(
            {"resourceType": "Observation", "subject": {"display": NAME}, "valueString": "positive"}
        )
    )
    (rec,) = drain(p).records
    assert rec.patient_identity and rec.identifiers == {"name": 1}


def test_fhir_ndjson_groups_lines(tmp_path):
    p = tmp_path / "Patient.ndjson"
    lines = [BUNDLE["entry"][0]["resource"]] + [BUNDLE["entry"][1]["resource"]] * 3
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    d = drain(p)
    assert d.format == "fhir-ndjson"
    assert any(r.patient_identity for r in d.records)
    assert sum(r.health.get("diagnosis", 0) for r in d.records) == 3


def test_fhir_xml_patient(tmp_path):
    p = tmp_path / "patient.xml"
    p.write_text(
        '<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>'
        "<entry><resource><Patient>"
        f'<identifier><type><coding><code value="MR"/></coding></type><value value="{MRN}"/>'
        "</identifier>"
        '<name><family value="Quexley"/><given value="Rosalind"/></name>'
        '<birthDate value="1961-04-02"/></Patient></resource></entry>'
        '<entry><resource><Condition><code><text value="Asthma"/></code></Condition>'
        "</resource></entry></Bundle>"
    )
    d = drain(p)
    assert d.format == "fhir-xml"
    (rec,) = d.records
    assert rec.patient_identity
    assert rec.identifiers == {"mrn": 1, "name": 1, "dob": 1}
    assert rec.health == {"diagnosis": 1}
    assert "Asthma" in rec.text[0].text


def _ccda(patient_role: str) -> str:
    return (
        '<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
        '<code code="34133-9" codeSystem="2.16.840.1.113883.6.1"/>'
        f"<recordTarget><patientRole>{patient_role}</patientRole></recordTarget>"
        "<component><structuredBody><component><section><title>Problems</title>"
        "<text>Diabetes, well controlled.</text><entry><observation>"
        '<value code="E11.9" codeSystem="2.16.840.1.113883.6.90" displayName="T2DM"/>'
        "</observation></entry></section></component></structuredBody></component>"
        "</ClinicalDocument>"
    )


def test_ccda_record_target(tmp_path):
    p = tmp_path / "ccd.xml"
    p.write_text(
        _ccda(
            f'<id root="2.16.840.1.113883.4.1" extension="{SSN}"/>'
            f'<id root="2.16.840.1.113883.19.5" extension="{MRN}"/>'
            '<telecom value="mailto:rq@example.org"/>'
            "<patient><name><given>Rosalind</given><family>Quexley</family></name>"
            '<birthTime value="19610402"/></patient>'
        )
    )
    d = drain(p)
    assert d.format == "ccda-xml"
    (rec,) = d.records
    assert rec.patient_identity
    assert rec.identifiers == {"ssn": 1, "mrn": 1, "email": 1, "name": 1, "dob": 1}
    assert rec.health == {"icd10": 1}  # the document's own LOINC type code is not counted
    assert "Diabetes, well controlled." in rec.text[0].text


def test_ccda_null_flavor_skeleton_names_nobody(tmp_path):
    p = tmp_path / "blank.xml"
    p.write_text(
        _ccda(
            '<id nullFlavor="NI"/><addr nullFlavor="NI"/>'
            '<patient><name nullFlavor="NI"/><birthTime nullFlavor="NI"/></patient>'
        )
    )
    (rec,) = drain(p).records
    assert not rec.patient_identity and rec.identifiers == {}


def test_dicom_identity_and_deidentified(tmp_path):
    (rec,) = drain(write_dicom(tmp_path / "a.dcm")).records
    assert rec.patient_identity
    assert rec.identifiers == {"name": 1, "mrn": 1, "dob": 1}
    assert "CT chest for pneumonia" in rec.text[0].text
    (anon,) = drain(write_dicom(tmp_path / "b.dcm", name="", pid="")).records
    assert not anon.patient_identity and anon.identifiers == {}


def _isa() -> str:
    # ISA is fixed width: 106 characters including the segment terminator "~".
    isa = (
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       "
        "*240101*1200*^*00501*000000001*0*P*:~"
    )
    assert len(isa) == 106
    return isa


def test_x12_837_subscriber_identity_and_diagnoses(tmp_path):
    body = (
        "GS*HC*SUB*REC*20240101*1200*1*X*005010X222A1~ST*837*0001~"
        "NM1*85*2*BILLING CLINIC*****XX*1234567893~N3*1 Clinic Way~N4*Town*MO*65801~"
        "HL*2*1*22*0~NM1*IL*1*QUEXLEY*ROSALIND****MI*W123456789~N3*1 Main St~"
        "N4*Springfield*MO*65801~DMG*D8*19610402*F~"
        "CLM*ACCT775*150***11:B:1~HI*ABK:E119*ABF:I10~SV1*HC:99213*150*UN*1~SE*14*0001~"
        "GE*1*1~IEA*1*000000001~"
    )
    p = tmp_path / "claims.txt"
    p.write_text(_isa() + body)
    d = drain(p)
    assert d.format == "x12"
    (rec,) = d.records
    assert rec.patient_identity
    # The billing provider's name and address are not counted: only the subscriber's.
    assert rec.identifiers == {"name": 1, "member_id": 1, "address": 1, "zip": 1, "dob": 1}
    assert rec.health == {"claim": 1, "diagnosis": 2, "procedure": 1}
    assert "ABK E119" in rec.text[0].text and "QUEXLEY" not in rec.text[0].text


def test_x12_without_person_loops_names_nobody(tmp_path):
    p = tmp_path / "ack.x12"
    p.write_text(
        _isa() + "GS*FA*R*S*20240101*1200*1*X*005010X231A1~ST*999*0001~"
        "AK1*HC*1~IK9*A~SE*4*0001~GE*1*1~IEA*1*000000001~"
    )
    (rec,) = drain(p).records
    assert not rec.patient_identity and rec.identifiers == {} and rec.health == {}


def test_json_array_of_fhir_resources_is_read_as_fhir(tmp_path):
    p = tmp_path / "export.json"
    p.write_text(json.dumps([e["resource"] for e in BUNDLE["entry"]]))
    d = drain(p)
    (rec,) = d.records
    assert rec.format == "fhir-json" and rec.patient_identity
    assert rec.health == {"diagnosis": 1, "result": 1}
