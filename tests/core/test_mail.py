import email
import email.policy

from django.core.mail import EmailMultiAlternatives

from core.mail import EmlFileBackend


def test_each_message_is_written_as_its_own_eml_file(settings, tmp_path):
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    backend = EmlFileBackend()
    messages = [
        EmailMultiAlternatives(subject=f"【督办】第{n}期", body="请抓紧办理。", to=[f"u{n}@jz.example.cn"])
        for n in (1, 2)
    ]
    assert backend.send_messages(messages) == 2

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    read = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(str(m["Subject"]) for m in read) == ["【督办】第1期", "【督办】第2期"]
    assert all(m.get_content().strip() == "请抓紧办理。" for m in read)
