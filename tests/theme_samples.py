"""Stories for the theme tests and the clustering bench: three things customers keep saying,
each in different words and heard in different functions, plus a few that belong nowhere."""

# (function, remark): the go-live date, the invoice, the named contact.
GO_LIVE = [
    ("Sales", "They asked again when they would actually be live; the go-live date we gave keeps slipping."),
    ("Implementation", "Nobody told us the go-live date sales promised, so the customer thinks we are late."),
    ("Support", "The customer said: you promised we'd be live by March and it is already May."),
    ("Customer success", "Their first question on the call was about the launch date they were promised."),
    ("Engineering", "The client keeps asking why the go-live was moved and who decided it."),
]
INVOICE = [
    ("Finance/billing", "The invoice does not match the quote they signed, and they want to know why."),
    ("Customer success", "They were billed twice this quarter and the invoice lists a product they never bought."),
    ("Sales", "The customer complained that the price on the bill is higher than the price in the contract."),
    ("Support", "A ticket came in because the invoice amount was wrong again."),
]
CONTACT = [
    ("Support", "They don't know who to call when something breaks; every time it is someone new."),
    ("Implementation", "The customer asked for one named person who knows their account instead of a queue."),
    ("Customer success", "She said she has explained their setup to five different people from our company."),
]
STRAYS = [
    ("Marketing", "They loved the webinar about warehouse robots."),
    ("Product", "Dark mode please."),
]


def remarks():
    return GO_LIVE + INVOICE + CONTACT + STRAYS
