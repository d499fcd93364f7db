"""The join link behind the projector's QR code."""

from facilitation.links import join_url, qr_png


def test_join_link_points_at_the_join_page_of_the_same_server():
    assert join_url("http://10.0.0.5:8501/projector?code=ABC234", "ABC234") == "http://10.0.0.5:8501/?code=ABC234"
    assert join_url("https://relay.example.org/workshops/projector", "K7M2QX") == "https://relay.example.org/workshops/?code=K7M2QX"


def test_join_link_without_a_page_address_is_relative():
    assert join_url(None, "ABC234") == "./?code=ABC234"


def test_qr_code_is_a_png():
    assert qr_png("http://localhost:8501/?code=ABC234").startswith(b"\x89PNG")
