"""Word lists and proportions the synthetic data draws from."""

from __future__ import annotations

from itertools import accumulate
from typing import Final

# fmt: off
FIRST_NAMES: Final = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Priya", "Mark", "Wei",
    "Steven", "Fatima", "Andrew", "Emily", "Kenji", "Olga", "Diego", "Aisha", "Lucas", "Chloe",
)
LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Patel", "Chen",
)
COMPANY_WORDS: Final = (
    "Apex", "Summit", "Blue", "River", "Iron", "Bright", "North", "Granite", "Silver", "Pioneer",
    "Vertex", "Harbor", "Maple", "Quantum", "Cedar", "Atlas", "Nova", "Beacon", "Orchard", "Falcon",
)
COMPANY_SUFFIXES: Final = (
    "Labs", "Group", "Partners", "Logistics", "Health", "Capital", "Systems", "Works", "Media",
    "Solutions", "Dental", "Roofing", "Realty", "Analytics", "Foods", "Legal",
)
INDUSTRIES: Final = (
    "SaaS", "Marketing Agency", "E-commerce", "Healthcare", "Real Estate", "Financial Services",
    "Construction", "Legal Services", "Manufacturing", "Logistics", "Education", "Insurance",
    "Home Services", "Recruiting",
)
TITLES: Final = (
    "CEO", "Founder", "Co-Founder", "Owner", "VP of Sales", "Head of Growth", "COO",
    "Marketing Director", "Managing Partner", "Director of Operations", "CMO", "President",
)
# As sources give them: ranges, open ranges, k-suffixes, words, blanks and junk.
HEADCOUNTS: Final = (
    "1-10", "2-10", "11-50", "11 - 50 employees", "51-200", "51 to 200", "201-500", "501-1000",
    "1,001-5,000", "1,000+", "5001-10000", "10,001+", "10k+", "12", "35", "140", "250",
    "2.5k", "self-employed", "Self Employed", "", "0", "n/a", "unknown", "1-10 employees", "75",
)
# fmt: on

# First replies to a cold email: mostly negative, out-of-office and automated.
FIRST_REPLY_WEIGHTS: Final[dict[str, int]] = {
    "Interested": 11,
    "Information Requested": 8,
    "Meeting Requested": 6,
    "Call Requested": 3,
    "Not Interested": 24,
    "Objection": 6,
    "Out of Office": 14,
    "Automated Reply": 8,
    "Follow Up": 7,
    "Blacklist": 6,
    "Neutral": 7,
}
# Later replies in a conversation that started positive.
LATER_REPLY_WEIGHTS: Final[dict[str, int]] = {
    "Meeting Requested": 28,
    "Interested": 22,
    "Information Requested": 14,
    "Call Requested": 10,
    "Not Interested": 10,
    "Neutral": 8,
    "Follow Up": 6,
    "Objection": 2,
}


def cumulative(weights: dict[str, int]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Labels and cumulative weights, the fast form of `random.choices`."""
    return tuple(weights), tuple(accumulate(weights.values()))


REPLY_BODIES: Final[dict[str, tuple[str, ...]]] = {
    "Interested": (
        "Hi, this sounds interesting. What would next steps look like?",
        "Thanks {first}, we have been looking at exactly this. Tell me more.",
        "Yes, open to it. How does pricing work?",
    ),
    "Information Requested": (
        "Can you send over a case study or some more details?",
        "What does this cost for a team our size?",
        "Do you have a deck I can share with my partner?",
    ),
    "Meeting Requested": (
        "Happy to chat. Does Thursday afternoon work?",
        "Let's set up a meeting next week. Send me a link.",
        "Sure, book something in for us.",
    ),
    "Call Requested": (
        "Give me a call tomorrow morning, my number is in my signature.",
        "Call me when you have 10 minutes.",
    ),
    "Not Interested": (
        "Not interested, thanks.",
        "We are all set here.",
        "No thank you.",
    ),
    "Objection": (
        "We already work with an agency for this.",
        "Bad timing, budgets are frozen until next quarter.",
        "This seems expensive for what it is.",
    ),
    "Out of Office": (
        "I am out of the office until Monday with limited access to email.",
        "Thanks for your message. I am on annual leave and will reply on my return.",
    ),
    "Automated Reply": (
        "This is an automated reply: your message has been received.",
        "This mailbox is no longer monitored.",
    ),
    "Follow Up": (
        "Reach out again in a couple of months.",
        "Not right now, try me next quarter.",
    ),
    "Blacklist": (
        "Unsubscribe.",
        "Remove me from your list.",
        "Stop emailing me.",
    ),
    "Neutral": (
        "Who is this?",
        "How did you get my email?",
        "Ok.",
    ),
}
CAMPAIGN_SUBJECTS: Final = (
    "Quick question, {first}",
    "{company} + more booked calls",
    "Idea for {company}",
    "Worth a look?",
)
CAMPAIGN_BODIES: Final = (
    "Hi {first}, we help {industry} teams book more qualified calls. Worth a chat?",
    "{first}, following up on my last note. Open to a 15 minute call?",
    "Hi {first}, one more idea for {company}: we fill calendars with buyers, not tire kickers.",
    "{first}, should I close your file? Happy to share results from similar companies.",
)
RESPONSE_BODIES: Final = (
    "Thanks {first}! Here is a link to grab a time that suits you: {link}",
    "Great to hear, {first}. The short version: we run the outreach, you take the calls. "
    "Pick a slot here: {link}",
    "Happy to help, {first}. I have attached a case study; want to talk it through? {link}",
)
FOLLOWUP_BODIES: Final = (
    "Hi {first}, just bumping this up. Still keen to find a time? {link}",
    "{first}, any thoughts on the above? Here is my calendar: {link}",
    "Last note from me, {first}. If now is not the time, no worries at all.",
)
SETTER_NOTES: Final = (
    "Understood {first}, thanks for letting me know.",
    "Fair enough. Mind if I check back in a few months?",
)
