#!/usr/bin/env python3
"""Generate a realistic synthetic organisation as an okrsite site, for benchmarks.

Usage::

    python benchmarks/generate.py --teams 1000 [--seed 1] [--today 2026-11-22] [--force] OUT

or, from Python::

    from generate import generate_site
    counts = generate_site(Path("out"), teams=1000, seed=1, today=date(2026, 11, 22))

The output follows the content contract (shared/spec/FORMAT.md):

* ``okrsite.toml`` with a ``[site]`` title;
* ``content/teams/<team>.md`` for a tree of exactly ``--teams`` teams whose
  depth (levels, the root ``company`` being level 1) is 4 to 6 for 10 to
  10,000 teams: company, divisions, departments, groups, squads, pods;
* two cycles derived from ``today``: the previous quarter (closed; the last
  check-in of every team grades every key result) and the quarter holding
  ``today`` (running; weekly check-ins up to ``today``, never after it, the
  latest within a week of ``today`` so no team is stale).  For the default
  ``today`` (2026-11-22) these are ``2026-Q3`` and ``2026-Q4``;
* ``content/cycles/<cycle>/<team>.md``: 3-5 objectives of 2-5 key results for
  every team in both cycles, every non-root objective aligned to an objective
  of the parent team in the same cycle;
* ``content/cycles/<cycle>/<team>/<YYYY-MM-DD>.md``: weekly check-ins with
  updates for a random subset of the team's key results and a Markdown
  narrative of about 1.5-2.5 KB.

Content is lint-clean on purpose: objective titles hold no digits, metric
key-result titles never start with an activity verb, every objective has at
least one metric key result, ``start != target``.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so a
seed always gives byte-identical output.  Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

DEFAULT_TODAY = date(2026, 11, 22)
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ACTIVITY_VERBS = (
    "launch", "build", "create", "implement", "write", "hold", "develop", "run", "ship",
    "design", "deliver", "organise", "organize", "plan", "set up", "start", "host", "conduct",
    "prepare", "publish", "roll out", "complete", "finish", "migrate",
)  # fmt: skip
LEVEL_LABELS = {1: "company", 2: "division", 3: "department", 4: "group", 5: "squad", 6: "pod"}

# --------------------------------------------------------------------------- word pools
# fmt: off

COMPANY_NAMES = [
    "Northwind", "Bluefin Labs", "Harborview", "Kestrel Systems", "Lumen Works", "Tidewater",
    "Brightline", "Cobalt Forge", "Evergreen Analytics", "Granite Peak", "Silverbirch",
    "Quillon", "Redwood Ledger", "Solstice Health", "Westbrook Logistics", "Fernhill",
]

FIRST_NAMES = [
    "Dana", "Lee", "Priya", "Marco", "Aisha", "Tomas", "Yuki", "Noah", "Elena", "Kwame",
    "Sofia", "Liam", "Mei", "Omar", "Hannah", "Diego", "Ingrid", "Ravi", "Chloe", "Mateo",
    "Amara", "Felix", "Leila", "Jonas", "Nadia", "Samuel", "Freya", "Arjun", "Grace", "Emil",
    "Zara", "Lucas", "Anya", "Hugo", "Imani", "Oscar", "Keiko", "Rafael", "Maya", "Stefan",
    "Nora", "Pablo", "Esther", "Victor", "Lina", "Kofi", "Clara", "Andre", "Sana", "Milan",
    "Rosa", "Tariq", "Isla", "Bruno", "Mira", "Jakob", "Alicia", "Dmitri", "Helena", "Ken",
    "Farah", "Theo", "Julia", "Ahmed", "Vera", "Nikolai", "Paula", "Sione", "Wendy", "Ezra",
    "Lucia", "Ibrahim", "Astrid", "Caleb", "Noor", "Pedro", "Greta", "Hiro", "Alma", "Rohan",
]
LAST_NAMES = [
    "Ruiz", "Chen", "Patel", "Rossi", "Okafor", "Novak", "Tanaka", "Schmidt", "Garcia",
    "Mensah", "Larsen", "Kim", "Haddad", "Fischer", "Silva", "Nguyen", "Berg", "Kowalski",
    "Dubois", "Moreno", "Ahmed", "Lindqvist", "Sato", "Costa", "Jensen", "Ivanova", "Walsh",
    "Mbeki", "Horvat", "Castillo", "Park", "Nielsen", "Romano", "Adeyemi", "Varga", "Shah",
    "Keller", "Oliveira", "Lund", "Popescu", "Ortiz", "Yamamoto", "Brennan", "Santos",
    "Eriksen", "Mehta", "Duarte", "Weber", "Kariuki", "Lopez", "Bauer", "Takahashi", "Murphy",
    "Petrov", "Reyes", "Holm", "Das", "Vogel", "Fernandes", "Abbott", "Clarke", "Iyer",
    "Moretti", "Sorensen", "Baptiste", "Greene", "Huang", "Lambert", "Ncube", "Okoro",
    "Quinn", "Rahman", "Stone", "Tran", "Usman", "Vance", "Wright", "Young", "Zimmer", "Hale",
]

# (division name, domain) in the order divisions are created
DIVISIONS = [
    ("Engineering", "eng"), ("Sales", "sales"), ("Product", "product"),
    ("Marketing", "marketing"), ("Customer Success", "cs"), ("Operations", "ops"),
    ("Finance", "finance"), ("People", "people"), ("Data", "data"), ("Security", "security"),
    ("Design", "design"), ("Infrastructure", "eng"), ("Partnerships", "sales"),
    ("Support", "cs"), ("Legal", "legal"), ("Research", "data"),
]
REGIONS = ["EMEA", "Americas", "APAC", "North America", "Europe", "Asia Pacific", "LATAM"]

TOPICS = {
    "eng": [
        "Payments", "Search", "Identity", "Mobile", "Web Client", "Platform", "Observability",
        "Developer Experience", "Data Pipeline", "Notifications", "Billing", "Checkout",
        "Messaging", "Storage", "Networking", "Release Engineering", "API Gateway",
        "Integrations", "Performance", "Compute", "Edge", "Sync",
    ],
    "product": [
        "Onboarding", "Growth", "Core Product", "Pricing", "Collaboration", "Reporting",
        "Workflow Automation", "Admin Console", "Marketplace", "Personalisation",
        "Accessibility", "Enterprise Features", "Mobile Product", "Insights",
    ],
    "sales": [
        "Enterprise Sales", "Mid-Market", "Small Business", "Sales Development",
        "Sales Operations", "Renewals", "Channel", "Public Sector", "Solutions Engineering",
        "Deal Desk", "Strategic Accounts", "Inside Sales",
    ],
    "marketing": [
        "Brand", "Demand Generation", "Content", "Product Marketing", "Events",
        "Lifecycle Marketing", "Web", "Community", "Partner Marketing", "Marketing Operations",
        "Search Marketing", "Analyst Relations",
    ],
    "cs": [
        "Onboarding Services", "Technical Support", "Account Management", "Customer Education",
        "Support Operations", "Escalations", "Professional Services", "Customer Advocacy",
        "Self-Service", "Community Support", "Implementation",
    ],
    "ops": [
        "Business Operations", "Procurement", "Facilities", "IT", "Vendor Management",
        "Workplace", "Revenue Operations", "Logistics", "Compliance Operations",
        "Internal Tools",
    ],
    "finance": [
        "Accounting", "Planning and Analysis", "Treasury", "Tax", "Payroll",
        "Billing Operations", "Revenue Accounting", "Audit", "Spend Management",
        "Investor Relations",
    ],
    "people": [
        "Recruiting", "Talent Development", "Total Rewards", "People Operations", "Learning",
        "Employee Experience", "Inclusion", "Wellbeing", "People Analytics",
        "Internal Communications",
    ],
    "data": [
        "Analytics Engineering", "Data Science", "Machine Learning", "Experimentation",
        "Data Platform", "Business Intelligence", "Data Governance", "Forecasting",
        "Applied Research", "Recommendations",
    ],
    "security": [
        "Application Security", "Security Operations", "Identity and Access",
        "Risk and Compliance", "Cloud Security", "Detection and Response", "Privacy",
        "Trust and Safety",
    ],
    "design": [
        "Product Design", "Design Systems", "User Research", "Content Design", "Brand Design",
        "Design Operations",
    ],
    "legal": [
        "Commercial Legal", "Privacy Legal", "Corporate Legal", "Employment Legal",
        "Intellectual Property", "Regulatory Affairs",
    ],
}
SUFFIXES = [
    "Core", "Platform", "Experience", "Tooling", "Insights", "Operations", "Growth",
    "Enablement", "Foundations", "Quality", "Automation", "Integrations", "Reliability",
    "Strategy", "Programs", "Analytics", "Services", "Expansion", "Efficiency", "Excellence",
]
CODENAMES = [
    "Falcon", "Otter", "Heron", "Lynx", "Badger", "Kestrel", "Orca", "Puffin", "Marten",
    "Ibex", "Condor", "Bison", "Gecko", "Osprey", "Raven", "Wren", "Narwhal", "Cobalt",
    "Quartz", "Ember", "Atlas", "Comet", "Nova", "Pulse", "Harbor", "Summit", "Beacon",
    "Anchor", "Compass", "Meridian", "Juniper", "Saffron", "Tundra", "Willow", "Zephyr",
]

# Objectives: (id key, title).  Titles hold no digits; {topic} is the team's topic.
OBJ_GENERIC = [
    ("customer-love", "Make {topic} something customers love"),
    ("reliability", "Make {topic} boringly reliable"),
    ("faster-value", "Get value to customers faster"),
    ("efficiency", "Run {topic} more efficiently"),
    ("quality-bar", "Raise the quality bar across {topic}"),
    ("durable-growth", "Grow {topic} into a durable engine"),
    ("team-health", "Be a team people are proud to join"),
    ("focus", "Focus on the work that matters most"),
    ("simplify", "Simplify how {topic} gets things done"),
    ("learn-faster", "Learn faster from our customers"),
    ("trust", "Earn lasting trust with our customers"),
    ("scale", "Prepare {topic} for the next stage of scale"),
    ("predictability", "Make our commitments predictable"),
    ("collaboration", "Work as one team with our neighbours"),
]
OBJ_DOMAIN = {
    "company": [
        ("revenue", "Grow revenue efficiently"),
        ("customers", "Delight customers at every touchpoint"),
        ("product-leadership", "Lead the category with a product people love"),
        ("people", "Build the team that builds the company"),
        ("operational-excellence", "Operate with discipline and focus"),
        ("market-trust", "Be the most trusted vendor in our market"),
        ("profitability", "Put the business on a clear path to profitability"),
    ],
    "eng": [
        ("platform-stability", "Keep the platform stable under peak load"),
        ("dev-velocity", "Give engineers a fast, safe path to production"),
        ("tech-debt", "Pay down the debt that slows {topic} down"),
        ("cloud-cost", "Bring cloud costs under control"),
        ("secure-defaults", "Make secure defaults the easy path"),
    ],
    "product": [
        ("activation", "Help new customers reach value on day one"),
        ("retention", "Make {topic} indispensable for daily work"),
        ("discovery", "Ground the roadmap in real customer evidence"),
        ("monetisation", "Turn product value into revenue"),
    ],
    "sales": [
        ("pipeline", "Build a pipeline that makes the year"),
        ("win-rate", "Win more of the deals we choose to chase"),
        ("expansion", "Expand within our best accounts"),
        ("forecast", "Forecast the business with confidence"),
    ],
    "marketing": [
        ("demand", "Create demand that sales can convert"),
        ("brand", "Make our brand the obvious choice in the category"),
        ("content", "Publish content our buyers actually read"),
        ("launches", "Make every launch land with customers"),
    ],
    "cs": [
        ("retention", "Keep every customer we have earned"),
        ("support-quality", "Resolve customer problems quickly and well"),
        ("self-service", "Let customers help themselves"),
        ("adoption", "Drive adoption across our largest accounts"),
    ],
    "ops": [
        ("friction", "Remove friction from everyday operations"),
        ("vendor-value", "Get more value from our vendors"),
        ("tools", "Give every team tools that just work"),
    ],
    "finance": [
        ("fast-close", "Close the books faster and cleaner"),
        ("spend-planning", "Plan and forecast spend with confidence"),
        ("cash", "Protect cash and improve collections"),
    ],
    "people": [
        ("hiring", "Hire exceptional people for critical roles"),
        ("engagement", "Make this the best place we have ever worked"),
        ("growth-paths", "Give everyone a clear path to grow"),
    ],
    "data": [
        ("trusted-data", "Put trustworthy data in everyone's hands"),
        ("model-impact", "Turn models into measurable customer impact"),
        ("experimentation", "Make experimentation the default way to decide"),
    ],
    "security": [
        ("attack-surface", "Shrink our attack surface"),
        ("detection", "Detect and contain threats quickly"),
        ("audit-ready", "Stay audit-ready all year round"),
    ],
    "design": [
        ("consistency", "Make the product feel like one product"),
        ("insight", "Put customer insight behind every decision"),
    ],
    "legal": [
        ("contracts", "Get contracts signed without slowing deals"),
        ("regulatory-risk", "Keep regulatory risk low and well understood"),
    ],
}

# Metric key results:
# (id key, title, unit, lo, hi, decimals, mode, c_lo, c_hi, cap)
# mode "mul": target = start * U(c_lo, c_hi); "add": target = start +/- U(c_lo, c_hi);
# "abs": start = lo, target = U(c_lo, c_hi).  Titles never start with an activity verb.
UP_GENERIC = [
    ("csat", "Customer satisfaction from {s}% to {t}%", "%", 72, 86, 0, "add", 3, 8, 99),
    ("nps", "Net Promoter Score from {s} to {t}", "points", 10, 40, 0, "add", 5, 15, 80),
    ("engagement", "Team engagement score from {s} to {t}", "points", 62, 78, 0, "add", 3, 8, 95),
    ("on-time", "Commitments delivered on time from {s}% to {t}%", "%", 55, 75, 0, "add", 8, 20,
     98),
    ("weekly-users", "Weekly active users of {topic} from {s} to {t}", "users", 800, 20000, 0,
     "mul", 1.2, 1.8, None),
    ("docs-coverage", "Key processes with current documentation from {s}% to {t}%", "%", 30, 60,
     0, "add", 15, 30, 100),
    ("stakeholder-satisfaction", "Stakeholder satisfaction with {topic} from {s} to {t} out of "
     "five", "points", 3.2, 3.9, 1, "add", 0.3, 0.7, 5),
    ("roadmap-delivered", "Roadmap items delivered in the quarter from {s}% to {t}%", "%", 50, 70,
     0, "add", 10, 20, 100),
    ("automated-tasks", "Recurring tasks automated from {s}% to {t}%", "%", 15, 40, 0, "add", 10,
     25, 95),
    ("self-serve-answers", "Questions answered by self-serve docs from {s}% to {t}%", "%", 20, 45,
     0, "add", 10, 20, 95),
    ("internal-nps", "Internal NPS of {topic} from {s} to {t}", "points", 5, 30, 0, "add", 8, 20,
     90),
    ("customer-conversations", "Customer conversations per month from {s} to {t}",
     "conversations", 4, 20, 0, "mul", 1.5, 2.5, None),
    ("learning-hours", "Learning hours per person per quarter from {s} to {t}", "hours", 4, 12, 0,
     "mul", 1.4, 2.0, None),
    ("checkins-on-time", "Weekly check-ins completed on time from {s}% to {t}%", "%", 60, 80, 0,
     "add", 10, 18, 100),
    ("requests-answered", "Cross-team requests answered within two days from {s}% to {t}%", "%",
     50, 75, 0, "add", 10, 20, 98),
    ("quality-score", "Quality review score of {topic} from {s} to {t}", "points", 60, 78, 0,
     "add", 5, 12, 100),
    ("tooling-adoption", "Teams using {topic} tooling from {s} to {t}", "teams", 10, 60, 0, "mul",
     1.3, 2.0, None),
    ("team-retention", "Twelve-month team retention from {s}% to {t}%", "%", 82, 90, 0, "add", 2,
     6, 99),
]
DOWN_GENERIC = [
    ("cycle-time", "Median cycle time from idea to customer down from {s} to {t} days", "days",
     20, 45, 0, "mul", 0.5, 0.8, None),
    ("escalations", "Escalations from other teams down from {s} to {t} per month", "escalations",
     12, 40, 0, "mul", 0.4, 0.7, None),
    ("toil-hours", "Hours per week spent on manual toil down from {s} to {t}", "hours", 15, 60, 0,
     "mul", 0.4, 0.7, None),
    ("stale-bugs", "Open bugs older than a month down from {s} to {t}", "bugs", 30, 200, 0, "mul",
     0.4, 0.7, None),
    ("meeting-load", "Meeting hours per person per week down from {s} to {t}", "hours", 12, 22, 0,
     "mul", 0.65, 0.85, None),
    ("request-response", "Median response to internal requests down from {s} to {t} hours",
     "hours", 10, 48, 0, "mul", 0.4, 0.7, None),
    ("unplanned-work", "Share of unplanned work down from {s}% to {t}%", "%", 25, 45, 0, "mul",
     0.5, 0.8, None),
]
UP_DOMAIN = {
    "company": [
        ("arr", "Annual recurring revenue from ${s}M to ${t}M", "USD millions", 40, 400, 0, "mul",
         1.08, 1.2, None),
        ("gross-margin", "Gross margin from {s}% to {t}%", "%", 62, 74, 0, "add", 2, 5, 90),
        ("nrr", "Net revenue retention from {s}% to {t}%", "%", 98, 112, 0, "add", 2, 6, 140),
        ("customers", "Paying customers from {s} to {t}", "customers", 1500, 9000, 0, "mul",
         1.08, 1.25, None),
    ],
    "eng": [
        ("deploys", "Production deploys per week from {s} to {t}", "deploys/week", 8, 60, 0,
         "mul", 1.3, 2.2, None),
        ("test-coverage", "Automated test coverage of {topic} from {s}% to {t}%", "%", 45, 70, 0,
         "add", 8, 18, 95),
        ("availability", "Availability of {topic} at {t}% or better", "%", 99.5, 99.8, 2, "add",
         0.05, 0.15, 99.99),
    ],
    "product": [
        ("activation", "Activation rate of new accounts from {s}% to {t}%", "%", 25, 45, 0, "add",
         5, 12, 90),
        ("retention-d30", "Day-thirty retention from {s}% to {t}%", "%", 30, 55, 0, "add", 4, 10,
         90),
        ("feature-adoption", "Accounts using {topic} every week from {s} to {t}", "accounts", 300,
         5000, 0, "mul", 1.3, 2.0, None),
        ("trial-conversion", "Trial-to-paid conversion from {s}% to {t}%", "%", 8, 18, 1, "add", 2,
         5, 60),
    ],
    "sales": [
        ("pipeline", "Qualified pipeline from ${s}M to ${t}M", "USD millions", 2, 40, 1, "mul",
         1.2, 1.8, None),
        ("bookings", "New bookings of ${t}M this quarter", "USD millions", 0, 0, 1, "abs", 1, 12,
         None),
        ("win-rate", "Win rate on qualified opportunities from {s}% to {t}%", "%", 18, 30, 0,
         "add", 3, 8, 80),
        ("meetings", "Qualified meetings booked per month from {s} to {t}", "meetings", 40, 300,
         0, "mul", 1.2, 1.7, None),
    ],
    "marketing": [
        ("mql", "Marketing qualified leads per month from {s} to {t}", "leads", 300, 4000, 0,
         "mul", 1.2, 1.8, None),
        ("organic-visits", "Organic visits per month from {s}K to {t}K", "thousand visits", 40,
         600, 0, "mul", 1.2, 1.6, None),
        ("share-of-voice", "Share of voice in our category from {s}% to {t}%", "%", 8, 20, 0,
         "add", 3, 7, 60),
        ("event-pipeline", "Pipeline sourced from events worth ${t}K", "USD thousands", 0, 0, 0,
         "abs", 200, 1500, None),
    ],
    "cs": [
        ("gross-retention", "Gross revenue retention from {s}% to {t}%", "%", 85, 92, 1, "add",
         1.5, 4, 99),
        ("fcr", "First-contact resolution rate from {s}% to {t}%", "%", 55, 72, 0, "add", 5, 12,
         95),
        ("green-health", "Accounts with a green health score from {s}% to {t}%", "%", 50, 70, 0,
         "add", 5, 12, 95),
        ("self-service-rate", "Tickets resolved through self-service from {s}% to {t}%", "%", 15,
         35, 0, "add", 5, 12, 80),
    ],
    "ops": [
        ("automation-rate", "Requests handled end to end by automation from {s}% to {t}%", "%",
         10, 35, 0, "add", 8, 20, 90),
        ("tool-satisfaction", "Internal tool satisfaction from {s} to {t} out of five", "points",
         3.1, 3.8, 1, "add", 0.3, 0.7, 5),
    ],
    "finance": [
        ("forecast-accuracy", "Budget lines forecast within five percent from {s}% to {t}%", "%",
         60, 75, 0, "add", 8, 15, 98),
        ("on-time-collections", "Invoices collected on time from {s}% to {t}%", "%", 70, 85, 0,
         "add", 5, 10, 99),
    ],
    "people": [
        ("offers-accepted", "Offers accepted for critical roles: {t}", "hires", 0, 0, 0, "abs", 5,
         40, None),
        ("internal-mobility", "Roles filled through internal moves from {s}% to {t}%", "%", 8,
         15, 0, "add", 4, 10, 50),
        ("manager-training", "Managers through leadership training from {s}% to {t}%", "%", 20,
         50, 0, "add", 20, 40, 100),
    ],
    "data": [
        ("dashboard-readers", "Weekly readers of core dashboards from {s} to {t}", "readers", 100,
         2000, 0, "mul", 1.3, 2.0, None),
        ("model-lift", "Conversion lift from recommendation models from {s}% to {t}%", "%", 1, 4,
         1, "add", 1, 3, 20),
        ("experiments", "Experiments completed per month from {s} to {t}", "experiments", 4, 30, 0,
         "mul", 1.4, 2.2, None),
    ],
    "security": [
        ("strong-mfa", "Employees on phishing-resistant MFA from {s}% to {t}%", "%", 40, 75, 0,
         "add", 15, 30, 100),
        ("automated-controls", "Compliance controls monitored automatically from {s}% to {t}%",
         "%", 30, 60, 0, "add", 15, 30, 100),
    ],
    "design": [
        ("design-system", "Screens built on the design system from {s}% to {t}%", "%", 35, 65, 0,
         "add", 10, 25, 100),
        ("research-sessions", "Customer research sessions per month from {s} to {t}", "sessions",
         6, 20, 0, "mul", 1.5, 2.5, None),
        ("usability", "Usability score of {topic} from {s} to {t}", "points", 62, 75, 0, "add", 5,
         10, 100),
    ],
    "legal": [
        ("standard-paper", "Deals signed on our standard paper from {s}% to {t}%", "%", 40, 65, 0,
         "add", 10, 20, 100),
        ("self-serve-contracts", "Contracts closed without legal review from {s}% to {t}%", "%",
         10, 30, 0, "add", 10, 20, 80),
    ],
}
DOWN_DOMAIN = {
    "company": [
        ("net-burn", "Net burn down from ${s}M to ${t}M per month", "USD millions", 2, 8, 1, "mul",
         0.6, 0.85, None),
        ("logo-churn", "Logo churn down from {s}% to {t}% per quarter", "%", 3, 7, 1, "mul", 0.6,
         0.85, None),
    ],
    "eng": [
        ("p95-latency", "p95 latency of {topic} down from {s} ms to {t} ms", "ms", 250, 1200, 0,
         "mul", 0.45, 0.8, None),
        ("incidents", "Customer-facing incidents per month down from {s} to {t}", "incidents", 6,
         20, 0, "mul", 0.3, 0.6, None),
        ("cloud-spend", "Monthly cloud spend down from ${s}K to ${t}K", "USD thousands", 80, 600,
         0, "mul", 0.7, 0.9, None),
        ("mttr", "Mean time to restore service down from {s} to {t} minutes", "minutes", 60, 240,
         0, "mul", 0.4, 0.7, None),
        ("build-time", "CI build time for {topic} down from {s} to {t} minutes", "minutes", 18, 45,
         0, "mul", 0.4, 0.7, None),
    ],
    "product": [
        ("time-to-value", "Median time to first value down from {s} to {t} days", "days", 7, 21,
         0, "mul", 0.4, 0.7, None),
    ],
    "sales": [
        ("sales-cycle", "Average sales cycle down from {s} to {t} days", "days", 45, 120, 0, "mul",
         0.7, 0.9, None),
    ],
    "marketing": [
        ("cac", "Blended customer acquisition cost down from ${s} to ${t}", "USD", 900, 4000, 0,
         "mul", 0.75, 0.9, None),
    ],
    "cs": [
        ("first-response", "Median first response time down from {s} to {t} hours", "hours", 4,
         18, 0, "mul", 0.3, 0.6, None),
        ("support-backlog", "Open support backlog down from {s} to {t} tickets", "tickets", 300,
         2500, 0, "mul", 0.4, 0.7, None),
    ],
    "ops": [
        ("request-time", "Median time to fulfil internal requests down from {s} to {t} days",
         "days", 4, 12, 0, "mul", 0.4, 0.7, None),
        ("vendor-spend", "Annual vendor spend down from ${s}K to ${t}K", "USD thousands", 400,
         3000, 0, "mul", 0.8, 0.93, None),
    ],
    "finance": [
        ("close-days", "Monthly close down from {s} to {t} working days", "days", 8, 14, 0, "mul",
         0.5, 0.75, None),
        ("dso", "Days sales outstanding down from {s} to {t}", "days", 45, 75, 0, "mul", 0.7, 0.9,
         None),
    ],
    "people": [
        ("time-to-hire", "Median time to hire down from {s} to {t} days", "days", 40, 70, 0, "mul",
         0.7, 0.85, None),
        ("regretted-attrition", "Regretted attrition down from {s}% to {t}%", "%", 6, 12, 1,
         "mul", 0.6, 0.85, None),
    ],
    "data": [
        ("data-freshness", "Freshness lag of core tables down from {s} to {t} hours", "hours", 12,
         48, 0, "mul", 0.2, 0.5, None),
        ("data-incidents", "Data quality incidents per month down from {s} to {t}", "incidents",
         6, 25, 0, "mul", 0.3, 0.6, None),
    ],
    "security": [
        ("vuln-age", "Median age of critical vulnerabilities down from {s} to {t} days", "days",
         20, 60, 0, "mul", 0.3, 0.6, None),
        ("open-findings", "Open high-severity findings down from {s} to {t}", "findings", 20, 120,
         0, "mul", 0.3, 0.6, None),
        ("mttd", "Mean time to detect threats down from {s} to {t} hours", "hours", 10, 48, 0,
         "mul", 0.3, 0.6, None),
    ],
    "design": [
        ("ui-bugs", "Open UI consistency bugs down from {s} to {t}", "bugs", 60, 300, 0, "mul",
         0.4, 0.7, None),
    ],
    "legal": [
        ("contract-turnaround", "Contract turnaround time down from {s} to {t} days", "days", 7,
         20, 0, "mul", 0.4, 0.7, None),
    ],
}
MILESTONES = [
    ("runbook", "{topic} runbook published and used by on-call"),
    ("roadmap", "Next-quarter roadmap for {topic} agreed with stakeholders"),
    ("hiring-plan", "Hiring plan for {topic} approved by finance"),
    ("migration", "{topic} fully migrated to the new platform"),
    ("pilot", "Pilot with three design partners completed"),
    ("playbook", "Shared playbook for {topic} adopted by every squad"),
    ("retro-actions", "Retrospective actions from last quarter closed out"),
    ("vendor-selection", "Vendor for {topic} selected and contract signed"),
    ("live-dashboard", "Live dashboard for {topic} metrics open to the whole company"),
    ("soc2", "SOC 2 Type II audit passed without exceptions"),
    ("pricing-page", "New pricing page live in all regions"),
    ("partner-program", "Partner program live with three partners"),
    ("review-cadence", "Monthly OKR review cadence in place"),
    ("handbook", "Team handbook for {topic} published"),
    ("legacy-retired", "Legacy {topic} endpoints retired"),
    ("on-call-rotation", "Follow-the-sun on-call rotation in place for {topic}"),
]

MISSIONS = [
    "making sure customers never have to think about it",
    "turning customer feedback into product that ships",
    "keeping the lights on while the business grows",
    "giving the rest of the company leverage",
    "removing toil so people can do their best work",
    "making the numbers trustworthy and easy to find",
    "earning the trust of our largest customers",
    "keeping costs honest as we scale",
]
WAYS_OF_WORKING = [
    "We plan in quarters, check in every week, and write our decisions down.",
    "We keep a small backlog and say no early and often.",
    "Requests come in through our intake channel; we triage them every Monday.",
    "We pair by default and rotate on-call fairly across the team.",
    "Our weekly demo is open to anyone who wants to see what changed.",
    "We publish a short changelog after every release.",
    "We measure outcomes, not activity, and review them together every Friday.",
]

SUBJECTS = [
    "We", "The team", "Most of the team", "Our on-call engineer", "The new starter",
    "Two of us", "The working group", "Our lead", "The squad", "A small tiger team",
    "Our partner team", "The pairing rotation",
]
ACTIONS = [
    "finished", "reviewed", "cleaned up", "documented", "prototyped", "re-scoped", "demoed",
    "paired on", "closed out", "simplified", "rolled out", "tested", "untangled",
    "benchmarked", "triaged", "polished", "shadowed the rollout of",
]
THINGS = [
    "the onboarding checklist", "the migration runbook", "the weekly metrics dashboard",
    "the flaky integration tests", "the pricing experiment", "the vendor contract",
    "the quarterly plan", "the escalation process", "the customer interview notes",
    "the backlog of small fixes", "the alerting rules", "the account health report",
    "the hiring scorecard", "the release checklist", "the data quality checks",
    "the renewal playbook", "the launch brief", "the support macros", "the access review",
    "the cost model", "the capacity plan", "the feedback survey", "the handover notes",
    "the design review", "the incident follow-ups", "the training material",
]
WHENS = [
    "this week", "ahead of schedule", "a few days later than planned", "on Tuesday",
    "before the freeze", "after a long review", "in two short sessions", "by Thursday",
    "without much drama", "with help from a neighbouring team",
]
EFFECTS = [
    "frees up time for the harder problems", "removes a recurring source of toil",
    "should make next week much calmer", "gives us a cleaner baseline for the numbers",
    "unblocks two downstream teams", "makes the weekly review faster",
    "means fewer surprises at the end of the quarter",
    "lowers the risk on our main key result", "makes the trend easier to read",
]
REASONS = [
    "the scope grew once we looked closely", "a dependency slipped by a week",
    "we lost two days to an incident", "half the team was out at a conference",
    "the data turned out to be messier than expected",
    "we had to wait for a security review", "the vendor changed their API",
    "priorities shifted after the leadership sync", "a key reviewer was on holiday",
]
TODOS = [
    "agree on the success criteria", "finish the rollout to the remaining regions",
    "write down the decision and share it", "close the last open review comments",
    "confirm the budget with finance", "move the remaining accounts",
    "retire the old dashboard", "do one more round of customer interviews",
    "pair with the platform team on the handover", "clean up the remaining alerts",
    "update the forecast", "tidy up the backlog",
]
DEADLINES = [
    "the end of the month", "the next planning session", "the quarterly business review",
    "the code freeze", "the next leadership sync", "the end of the cycle", "next Friday",
    "the next release",
]
STAKEHOLDERS = [
    "finance", "the leadership team", "our largest customer", "the sales team", "legal",
    "the platform team", "support", "two design partners", "the security team",
    "product management",
]
ADJECTIVES = [
    "encouraging", "mixed", "blunt but useful", "overwhelmingly positive",
    "more cautious than we hoped", "detailed", "clear",
]
FEEDBACK = [
    "they want fewer steps, not more features", "the new flow is clearer but slower",
    "reporting matters more to them than we assumed",
    "they are happy to wait if we communicate early",
    "the pricing change needs a better explanation", "the rollout plan looks realistic",
    "documentation is the main gap",
]
ACTIVITIES = [
    "planning the next milestone", "customer calls", "fixing regressions from the last release",
    "interviews for the open roles", "cleaning up old tickets", "pairing on the migration",
    "preparing the quarterly review", "measuring the baseline properly",
]
OUTCOMES = [
    "a visible jump in the numbers", "the first results from the pilot",
    "a clear go or no-go decision", "the remaining work to fit comfortably",
    "a much steadier weekly trend",
]
SENTENCE_TEMPLATES = [
    "{S} {A} {T} {W}.",
    "{S} {A} {T}, which {E}.",
    "{Tc} took longer than expected because {R}.",
    "Most of the week went into {ACT}, and it {E}.",
    "We still need to {TODO} before {D}.",
    "If that holds, we expect {O} by {D}.",
    "Feedback from {SH} was {ADJ}: {FB}.",
    "We agreed with {SH} to {TODO} and to revisit the plan at {D}.",
    "The biggest open question is whether {SH} can commit before {D}.",
    "{S} also {A} {T}, mostly so that the next cycle starts clean.",
    "It is worth calling out that {s} {A} {T} {W}.",
    "Nothing is on fire, but {R} and we are keeping an eye on it.",
    "We talked to {SH} about {T}; {FB}.",
]
MOODS_GOOD = [
    "A good week for the team.", "Solid progress this week.",
    "Things are moving in the right direction.", "A quietly productive week.",
]
MOODS_MID = [
    "Overall a steady week.", "A mixed week: good progress on some fronts, less on others.",
    "Progress was steady rather than spectacular.", "A normal week with a few surprises.",
]
MOODS_BAD = [
    "A slower week than we wanted.", "A tough week, honestly.",
    "We are behind where we hoped to be.", "Not our best week, but the picture is clear.",
]
NOTES = [
    "Two enterprise deals closed", "Holiday slowdown expected", "Waiting on vendor contract",
    "Baseline re-measured this week", "Blocked on a security review", "Ahead of plan",
    "Data source changed, numbers re-computed", "Pilot customer went live",
    "One-off spike from a marketing campaign", "Dependency on the platform team",
    "Rollout paused for the code freeze", "Hiring for this is behind plan",
    "Seasonal dip, as in previous years", "New dashboard makes this easier to track",
]
LINK_TARGETS = [
    ("team wiki", "https://wiki.example.com/teams/{team}"),
    ("incident review", "https://docs.example.com/reviews/{team}/{date}"),
    ("design doc", "https://docs.example.com/design/{team}/{slug}"),
    ("weekly dashboard", "https://dashboards.example.com/{team}?week={date}"),
    ("decision log", "https://wiki.example.com/teams/{team}/decisions"),
]
# fmt: on


# --------------------------------------------------------------------------- helpers


def slugify(text: str, limit: int = 64) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].rstrip("-")


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML; all text here is ASCII)."""
    return json.dumps(text)


def fnum(x: float, dec: int) -> str:
    """A YAML number in plain decimal notation."""
    if dec <= 0:
        return str(round(x))
    s = f"{x:.{dec}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def tnum(x: float, dec: int) -> str:
    """A number for prose, with thousands separators."""
    if dec <= 0:
        return f"{round(x):,}"
    s = f"{x:,.{dec}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def nice(x: float, dec: int) -> float:
    if dec <= 0:
        v = round(x)
        if v >= 1000:
            mag = 10 ** (len(str(v)) - 2)
            v = round(v / mag) * mag
        return int(v)
    return round(x, dec)


def with_unit(v: str, unit: str) -> str:
    if unit == "%":
        return v + "%"
    if unit == "USD millions":
        return f"${v}M"
    if unit == "USD thousands":
        return f"${v}K"
    if unit == "USD":
        return "$" + v
    return f"{v} {unit}"


def quarter_of(d: date) -> tuple[str, date, date]:
    qn = (d.month - 1) // 3 + 1
    start = date(d.year, 3 * qn - 2, 1)
    end = date(d.year + 1, 1, 1) if qn == 4 else date(d.year, 3 * qn + 1, 1)
    return f"{d.year}-Q{qn}", start, end - timedelta(days=1)


def achievement(r: random.Random) -> float:
    """How far a metric gets by the end of its cycle (1 = target): mostly close, some not."""
    u = r.random()
    if u < 0.5:
        return r.uniform(0.92, 1.35)
    if u < 0.82:
        return r.uniform(0.55, 0.92)
    return r.uniform(0.15, 0.55)


def level_sizes(n: int) -> list[int]:
    """Teams per level (root first): depth 4 up to 40 teams, 5 up to 1,200, else 6."""
    if n < 1:
        raise ValueError("need at least one team")
    if n < 4:
        return [1] * n
    levels = 4 if n <= 40 else 5 if n <= 1200 else 6
    lo, hi = 1.0, float(n)
    for _ in range(200):
        mid = (lo + hi) / 2
        if sum(mid**k for k in range(levels)) < n:
            lo = mid
        else:
            hi = mid
    sizes = [max(1, round(lo**k)) for k in range(levels - 1)]
    if n - sum(sizes) < sizes[-1]:  # rounding up left the last level too small
        sizes = [max(1, int(lo**k)) for k in range(levels - 1)]
    sizes.append(n - sum(sizes))
    assert sizes[-1] >= 1 and sum(sizes) == n
    return sizes


class Team:
    __slots__ = ("children", "depth", "domain", "id", "lead", "members", "name", "parent",
                 "topic")  # fmt: skip

    def __init__(self, tid, name, parent, depth, domain, topic):
        self.id = tid
        self.name = name
        self.parent = parent
        self.depth = depth
        self.domain = domain
        self.topic = topic
        self.children: list[Team] = []
        self.lead = ""
        self.members: list[str] = []


# --------------------------------------------------------------------------- generator


class _Gen:
    def __init__(self, out: Path, n: int, seed: int, today: date):
        self.out = str(out)
        self.n = n
        self.today = today
        self.rng = random.Random(seed)
        self.files = 0
        self.bytes = 0
        self.okr_files = 0
        self.n_checkins = 0
        self.objectives = 0
        self.key_results = 0
        self._sentences = self._make_sentences(1500)
        self._wins, self._blockers, self._nexts = self._make_bullets(400)

    # -- output
    def write(self, rel: str, text: str) -> None:
        data = text.encode("utf-8")
        with open(os.path.join(self.out, rel), "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)

    # -- pools
    def _make_sentences(self, count: int) -> list[str]:
        r = self.rng
        out = []
        for _ in range(count):
            tpl = r.choice(SENTENCE_TEMPLATES)
            subj = r.choice(SUBJECTS)
            thing = r.choice(THINGS)
            out.append(tpl.format(
                S=subj, s=subj[0].lower() + subj[1:],
                A=r.choice(ACTIONS), T=thing, Tc=thing[0].upper() + thing[1:],
                W=r.choice(WHENS), E=r.choice(EFFECTS), R=r.choice(REASONS),
                ACT=r.choice(ACTIVITIES), TODO=r.choice(TODOS), D=r.choice(DEADLINES),
                O=r.choice(OUTCOMES), SH=r.choice(STAKEHOLDERS), ADJ=r.choice(ADJECTIVES),
                FB=r.choice(FEEDBACK),
            ))  # fmt: skip
        return out

    def _make_bullets(self, count: int) -> tuple[list[str], list[str], list[str]]:
        r = self.rng
        wins, blockers, nexts = [], [], []
        for _ in range(count):
            a = r.choice(ACTIONS)
            wins.append(f"{a[0].upper()}{a[1:]} {r.choice(THINGS)} {r.choice(WHENS)}")
            k = r.random()
            if k < 0.4:
                blockers.append(f"Waiting on {r.choice(STAKEHOLDERS)} for {r.choice(THINGS)}")
            elif k < 0.75:
                why = r.choice(REASONS)
                blockers.append(f"{why[0].upper()}{why[1:]}")
            else:
                blockers.append(f"No decision yet on {r.choice(THINGS)}")
            todo = r.choice(TODOS)
            if r.random() < 0.6:
                nexts.append(f"{todo[0].upper()}{todo[1:]} before {r.choice(DEADLINES)}")
            else:
                nexts.append(f"Share {r.choice(THINGS)} with {r.choice(STAKEHOLDERS)}")
        return wins, blockers, nexts

    # -- people
    def people(self) -> list[str]:
        r = self.rng
        count = max(20, -(-self.n // 3))
        pairs = [(f, ln) for f in FIRST_NAMES for ln in LAST_NAMES]
        r.shuffle(pairs)
        names = [f"{f} {ln}" for f, ln in pairs]
        letter = 0
        while len(names) < count:  # more than 6,400 people: add middle initials
            initial = "ABCDEFGHJKLMNPRSTVW"[letter % 19]
            names.extend(f"{f} {initial}. {ln}" for f, ln in pairs)
            letter += 1
        return names[:count]

    # -- tree
    def tree(self) -> list[Team]:
        r = self.rng
        sizes = level_sizes(self.n)
        company = r.choice(COMPANY_NAMES)
        self.company = company
        width = max(4, len(str(self.n - 1)))
        root = Team("company", company, None, 1, "company", company)
        teams = [root]
        level = [root]
        for depth, count in enumerate(sizes[1:], start=2):
            k = len(level)
            if count >= k:
                per = [1] * k
                cum, acc = [], 0.0
                for _ in range(k):
                    acc += r.uniform(0.4, 2.5)
                    cum.append(acc)
                for i in r.choices(range(k), cum_weights=cum, k=count - k):
                    per[i] += 1
            else:
                per = [0] * k
                for i in r.sample(range(k), count):
                    per[i] = 1
            nxt = []
            for parent, m in zip(level, per, strict=True):
                used = {c.name for c in parent.children}
                for _ in range(m):
                    name, domain, topic = self._team_name(parent, depth, used)
                    used.add(name)
                    num = len(teams)
                    prefix = f"t{num:0{width}d}-"
                    tid = prefix + slugify(name, 64 - len(prefix))
                    t = Team(tid, name, parent, depth, domain, topic)
                    parent.children.append(t)
                    teams.append(t)
                    nxt.append(t)
            level = nxt
        return teams

    def _team_name(self, parent: Team, depth: int, used: set) -> tuple[str, str, str]:
        r = self.rng
        if depth == 2:
            i = len(parent.children)
            name, domain = DIVISIONS[i % len(DIVISIONS)]
            if i >= len(DIVISIONS):
                name = f"{name} {REGIONS[(i // len(DIVISIONS) - 1) % len(REGIONS)]}"
            return name, domain, name
        domain = parent.domain
        topics = TOPICS[domain]
        if depth == 3:
            for _ in range(6):
                topic = r.choice(topics)
                if topic not in used:
                    return topic, domain, topic
            topic = r.choice(topics)
            return f"{topic} {r.choice(SUFFIXES)}", domain, topic
        for _ in range(6):
            if depth >= 5 and r.random() < 0.25:
                name = f"{r.choice(CODENAMES)} {LEVEL_LABELS[depth].title()}"
                topic = parent.topic
            else:
                topic = parent.topic if r.random() < 0.6 else r.choice(topics)
                name = f"{topic} {r.choice(SUFFIXES)}"
            if name not in used and name != parent.name:
                return name, domain, topic
        return f"{name} {r.choice(CODENAMES)}", domain, topic

    # -- teams
    def assign_people(self, teams: list[Team], people: list[str]) -> None:
        r = self.rng
        p = len(people)
        n = len(teams)
        for i, t in enumerate(teams):
            base = i * p // n
            size = r.randint(3, 8)
            picks = []
            for _ in range(size * 2):
                name = people[(base + r.randint(-6, 6)) % p]
                if name not in picks:
                    picks.append(name)
                if len(picks) == size:
                    break
            t.lead = picks[0]
            t.members = sorted(picks)

    def team_file(self, t: Team) -> None:
        r = self.rng
        lines = ["---", f"name: {q(t.name)}"]
        if t.parent is not None:
            lines.append(f"parent: {t.parent.id}")
        lines.append(f"lead: {q(t.lead)}")
        lines.append("members: [" + ", ".join(q(m) for m in t.members) + "]")
        lines.append("---")
        label = LEVEL_LABELS.get(t.depth, "team")
        if t.parent is None:
            intro = (
                f"{t.name} builds software that helps companies work better together. "
                f"This is the company's own OKR space: every team aligns to it."
            )
        else:
            intro = (
                f"The {t.name} {label} is part of {t.parent.name}. It owns "
                f"{t.topic.lower()} end to end, {r.choice(MISSIONS)}."
            )
        body = [
            intro,
            " ".join(r.sample(WAYS_OF_WORKING, 2)),
            f"Questions go to {t.lead}, who leads the {label}.",
        ]
        self.write(f"content/teams/{t.id}.md", "\n".join(lines) + "\n" + "\n\n".join(body) + "\n")

    # -- OKRs
    def okrs(self, t: Team, parent_objs: list[str] | None) -> list[dict]:
        r = self.rng
        domain = t.domain
        topic = t.topic
        obj_pool = OBJ_DOMAIN.get(domain, []) + OBJ_GENERIC
        if t.parent is None:
            obj_pool = OBJ_DOMAIN["company"]
        up_pool = UP_DOMAIN.get(domain, []) + UP_GENERIC
        down_pool = DOWN_DOMAIN.get(domain, []) + DOWN_GENERIC
        n_obj = r.choice((3, 3, 4, 4, 4, 5))
        obj_tpls = r.sample(obj_pool, n_obj)
        up_left = up_pool[:]
        r.shuffle(up_left)
        down_left = down_pool[:]
        r.shuffle(down_left)
        ms_left = MILESTONES[:]
        r.shuffle(ms_left)
        obj_ids: set[str] = set()
        kr_ids: set[str] = set()
        used: set[str] = set()
        objectives = []
        for okey, otitle in obj_tpls:
            oid = okey
            k = 2
            while oid in obj_ids:
                oid = f"{okey}-{k}"
                k += 1
            obj_ids.add(oid)
            title = otitle.format(topic=topic)
            if title[0].islower():
                title = title[0].upper() + title[1:]
            obj = {"id": oid, "title": title, "krs": []}
            if r.random() < 0.6:
                obj["owner"] = r.choice(t.members)
            if parent_objs:
                obj["aligns_to"] = f"{t.parent.id}/{r.choice(parent_objs)}"
            if r.random() < 0.15:
                obj["kind"] = "aspirational"
            if r.random() < 0.25:
                obj["description"] = (
                    f"Why this matters: it {r.choice(EFFECTS)}. {r.choice(self._sentences)}"
                )
            n_kr = r.choice((2, 3, 3, 4, 4, 5))
            kinds = ["milestone" if r.random() < 0.2 else "metric" for _ in range(n_kr)]
            if "metric" not in kinds:
                kinds[0] = "metric"
            for kind in kinds:
                if kind == "metric":
                    down = r.random() < 0.2
                    pool = down_left if down else up_left
                    if not pool:  # borrow from other domains before repeating a template
                        every = DOWN_DOMAIN if down else UP_DOMAIN
                        pool.extend(
                            x
                            for d in sorted(every)
                            if d != "company"
                            for x in every[d]
                            if x[0] not in used
                        )
                        if not pool:
                            pool.extend(down_pool if down else up_pool)
                        r.shuffle(pool)
                    tpl = pool.pop()
                    used.add(tpl[0])
                    kr = self._metric(tpl, down, topic)
                else:
                    if not ms_left:
                        ms_left.extend(MILESTONES)
                        r.shuffle(ms_left)
                    mkey, mtitle = ms_left.pop()
                    mt = mtitle.format(topic=topic)
                    kr = {
                        "key": mkey,
                        "title": mt[0].upper() + mt[1:],
                        "type": "milestone",
                        "fin": r.uniform(0.45, 1.5),
                        "conf": r.uniform(0.45, 0.9),
                    }
                kid = kr.pop("key")
                base, k = kid, 2
                while kid in kr_ids:
                    kid = f"{base}-{k}"
                    k += 1
                kr_ids.add(kid)
                kr["id"] = kid
                if r.random() < 0.25:
                    kr["weight"] = r.choice(("2", "3", "0.5", "1.5"))
                if r.random() < 0.7:
                    kr["owner"] = r.choice(t.members)
                obj["krs"].append(kr)
            objectives.append(obj)
        return objectives

    def _metric(self, tpl: tuple, down: bool, topic: str) -> dict:
        r = self.rng
        key, title, unit, lo, hi, dec, mode, clo, chi, cap = tpl
        if mode == "abs":
            start = lo
            target = nice(r.uniform(clo, chi), dec)
        else:
            start = nice(r.uniform(lo, hi), dec)
            if mode == "mul":
                target = nice(start * r.uniform(clo, chi), dec)
            else:
                delta = r.uniform(clo, chi)
                target = round(start - delta if down else start + delta, dec)
            if cap is not None:
                target = max(target, cap) if down else min(target, cap)
        if target == start:
            step = 1 if dec <= 0 else 10**-dec
            target = round(start - step if down else start + step, max(dec, 0))
        assert target != start
        return {
            "key": key, "type": "metric", "unit": unit, "dec": dec, "start": start,
            "target": target,
            "title": title.format(s=tnum(start, dec), t=tnum(target, dec), topic=topic),
            "ach": achievement(r), "shape": r.uniform(0.5, 1.3),
            "conf": r.uniform(0.4, 0.9), "max_pct": 100 if unit == "%" else None,
        }  # fmt: skip

    def okr_file(self, cycle: str, t: Team, objectives: list[dict]) -> None:
        r = self.rng
        out = ["---", "objectives:"]
        for o in objectives:
            out.append(f"  - id: {o['id']}")
            out.append(f"    title: {q(o['title'])}")
            if "owner" in o:
                out.append(f"    owner: {q(o['owner'])}")
            if "aligns_to" in o:
                out.append(f"    aligns_to: {o['aligns_to']}")
            if "kind" in o:
                out.append(f"    kind: {o['kind']}")
            if "description" in o:
                out.append(f"    description: {q(o['description'])}")
            out.append("    key_results:")
            for kr in o["krs"]:
                out.append(f"      - id: {kr['id']}")
                out.append(f"        title: {q(kr['title'])}")
                if kr["type"] == "milestone":
                    out.append("        type: milestone")
                else:
                    out.append(f"        start: {fnum(kr['start'], kr['dec'])}")
                    out.append(f"        target: {fnum(kr['target'], kr['dec'])}")
                    out.append(f"        unit: {q(kr['unit'])}")
                if "weight" in kr:
                    out.append(f"        weight: {kr['weight']}")
                if "owner" in kr:
                    out.append(f"        owner: {q(kr['owner'])}")
        out.append("---")
        titles = [o["title"][0].lower() + o["title"][1:] for o in objectives]
        body = [
            f"This {cycle} cycle {t.name} concentrates on {len(objectives)} things: "
            + "; ".join(titles[:-1])
            + f"; and {titles[-1]}.",
            " ".join(r.sample(self._sentences, 3)),
            " ".join(r.sample(self._sentences, 2)),
        ]
        self.okr_files += 1
        self.objectives += len(objectives)
        self.key_results += sum(len(o["krs"]) for o in objectives)
        self.write(
            f"content/cycles/{cycle}/{t.id}.md", "\n".join(out) + "\n" + "\n\n".join(body) + "\n"
        )

    # -- check-ins
    def checkins(
        self, cycle: str, cstart: date, cend: date, closed: bool, t: Team, objectives: list[dict]
    ) -> None:
        r = self.rng
        krs = [kr for o in objectives for kr in o["krs"]]
        length = (cend - cstart).days + 1
        if closed:
            first = cstart + timedelta(days=r.randint(0, max(0, min(6, length - 1 - 84))))
            dates = [first + timedelta(days=7 * i) for i in range(13)]
            dates = [d for d in dates if d <= cend and d <= self.today]
        else:
            first = cstart + timedelta(days=r.randint(0, 6))
            dates = []
            d = first
            while d <= cend and d <= self.today:
                dates.append(d)
                d += timedelta(days=7)
        if not dates:
            return
        os.makedirs(os.path.join(self.out, "content", "cycles", cycle, t.id), exist_ok=True)
        done: dict[str, float] = {}
        last_index = len(dates) - 1
        for i, d in enumerate(dates):
            frac = ((d - cstart).days + 1) / length
            final = closed and i == last_index and cend < self.today
            if final:
                chosen = krs
            else:
                chosen = [kr for kr in krs if r.random() < 0.55]
                if not chosen:
                    chosen = [r.choice(krs)]
            lines = [
                "---",
                f"date: {d.isoformat()}",
                f"author: {q(t.lead if r.random() < 0.5 else r.choice(t.members))}",
                "updates:",
            ]
            mentions = []
            confs = []
            for kr in chosen:
                fields = []
                conf = min(1.0, max(0.0, kr["conf"] + r.gauss(0, 0.06)))
                if not final and r.random() < 0.05:
                    fields.append(f"confidence: {round(conf, 2)!r}")
                    lines.append(f"  {kr['id']}: {{{', '.join(fields)}}}")
                    confs.append(conf)
                    continue
                if kr["type"] == "metric":
                    f = kr["ach"] * frac ** kr["shape"] + r.gauss(0, 0.035)
                    v = kr["start"] + (kr["target"] - kr["start"]) * f
                    v = max(v, 0)
                    if kr["max_pct"] is not None:
                        v = min(v, kr["max_pct"])
                    vs = fnum(v, kr["dec"])
                    fields.append(f"value: {vs}")
                    prog = min(1.0, max(0.0, f))
                    mentions.append((kr, tnum(v, kr["dec"])))
                else:
                    p = max(done.get(kr["id"], 0.0), min(1.0, frac / kr["fin"] + r.gauss(0, 0.04)))
                    p = round(max(0.0, p), 2)
                    done[kr["id"]] = p
                    if p >= 1.0:
                        fields.append("done: true")
                    else:
                        fields.append(f"progress: {p!r}")
                    prog = p
                    mentions.append((kr, p))
                if final:
                    grade = round(min(1.0, max(0.0, prog + r.gauss(0, 0.07))), 1)
                    fields.append(f"grade: {grade!r}")
                elif r.random() < 0.7:
                    fields.append(f"confidence: {round(conf, 2)!r}")
                    confs.append(conf)
                if r.random() < 0.15:
                    fields.append(f"note: {q(r.choice(NOTES))}")
                lines.append(f"  {kr['id']}: {{{', '.join(fields)}}}")
            lines.append("---")
            body = self._narrative(cycle, t, d, (d - cstart).days // 7 + 1, mentions, confs, final)
            self.n_checkins += 1
            self.write(
                f"content/cycles/{cycle}/{t.id}/{d.isoformat()}.md", "\n".join(lines) + "\n" + body
            )

    def _narrative(self, cycle, t, d, week, mentions, confs, final) -> str:
        # Hot path (one call per check-in): index arithmetic on r.random() instead of
        # choice/sample/randint, and slices of the (already random) pre-built pools.
        rnd = self.rng.random
        sentences = self._sentences
        ns = len(sentences)
        target_len = 1550 + int(rnd() * 800)
        avg = sum(confs) / len(confs) if confs else 0.65
        moods = MOODS_GOOD if avg >= 0.7 else MOODS_MID if avg >= 0.5 else MOODS_BAD
        mood = moods[int(rnd() * len(moods))]
        if final:
            head = [f"Final check-in for {cycle}: grades for every key result are in.", mood]
        else:
            head = [f"Week {week} of {cycle}.", mood]
        for kr, vs in mentions[:2]:
            if kr["type"] == "milestone":
                if vs >= 1:
                    head.append(f"*{kr['title']}*: done, and it feels good to say so.")
                else:
                    head.append(f"*{kr['title']}* is roughly {round(vs * 100)}% of the way there.")
            else:
                head.append(
                    f"*{kr['title']}* now stands at {with_unit(vs, kr['unit'])}, "
                    f"against a target of "
                    f"{with_unit(tnum(kr['target'], kr['dec']), kr['unit'])}."
                )
        head.append(sentences[int(rnd() * ns)])
        nb = len(self._wins)
        i = int(rnd() * (nb - 3))
        wins = self._wins[i : i + 2 + int(rnd() * 2)]
        i = int(rnd() * (nb - 3))
        blockers = self._blockers[i : i + 1 + int(rnd() * 2)]
        i = int(rnd() * (nb - 3))
        nexts = self._nexts[i : i + 2 + int(rnd() * 2)]
        if rnd() < 0.5:
            hw, hb, hn = "**Wins**", "**Blockers**", "**Next steps**"
        else:
            hw, hb, hn = "### Wins", "### Blockers", "### Next steps"
        lists = (
            f"{hw}\n\n- "
            + "\n- ".join(wins)
            + f"\n\n{hb}\n\n- "
            + "\n- ".join(blockers)
            + f"\n\n{hn}\n\n- "
            + "\n- ".join(nexts)
        )
        parts = [" ".join(head)]
        size = len(parts[0]) + len(lists) + 4
        tail = None
        if rnd() < 0.15:
            label, url = LINK_TARGETS[int(rnd() * len(LINK_TARGETS))]
            url = url.format(team=t.id, date=d.isoformat(), slug=slugify(label))
            tail = f"More detail is in the [{label}]({url})."
            size += len(tail) + 2
        para: list[str] = []
        middle = []
        para_len = 2 + int(rnd() * 3)
        while size < target_len:
            s = sentences[int(rnd() * ns)]
            if rnd() < 0.04:
                s = f"**{s}**"
            para.append(s)
            size += len(s) + 1
            if len(para) >= para_len:
                middle.append(" ".join(para))
                para = []
                para_len = 2 + int(rnd() * 3)
                size += 1
        if para:
            middle.append(" ".join(para))
        parts.extend(middle[:1])
        parts.append(lists)
        parts.extend(middle[1:])
        if tail:
            parts.append(tail)
        return "\n\n".join(parts) + "\n"

    # -- whole site
    def run(self) -> dict:
        t0 = time.perf_counter()
        people = self.people()
        teams = self.tree()
        self.assign_people(teams, people)
        prev_id, prev_start, prev_end = quarter_of(quarter_of(self.today)[1] - timedelta(days=1))
        cur_id, cur_start, cur_end = quarter_of(self.today)
        cycles = [(prev_id, prev_start, prev_end, True), (cur_id, cur_start, cur_end, False)]
        os.makedirs(os.path.join(self.out, "content", "teams"), exist_ok=True)
        for cid, *_ in cycles:
            os.makedirs(os.path.join(self.out, "content", "cycles", cid), exist_ok=True)
        self.write("okrsite.toml", f"[site]\ntitle = {q(self.company + ' OKRs')}\n")
        obj_ids: dict[tuple[str, str], list[str]] = {}
        for t in teams:
            self.team_file(t)
            for cid, cstart, cend, closed in cycles:
                parent_objs = obj_ids[(cid, t.parent.id)] if t.parent is not None else None
                objectives = self.okrs(t, parent_objs)
                if t.children:
                    obj_ids[(cid, t.id)] = [o["id"] for o in objectives]
                self.okr_file(cid, t, objectives)
                self.checkins(cid, cstart, cend, closed, t, objectives)
        return {
            "teams": len(teams),
            "people": len(people),
            "max_depth": max(t.depth for t in teams),
            "cycles": [c[0] for c in cycles],
            "okr_files": self.okr_files,
            "objectives": self.objectives,
            "key_results": self.key_results,
            "checkins": self.n_checkins,
            "files": self.files,
            "bytes": self.bytes,
            "seconds": round(time.perf_counter() - t0, 3),
        }


def generate_site(
    out: Path, teams: int, seed: int = 1, today: date = DEFAULT_TODAY, *, overwrite: bool = False
) -> dict:
    """Write a complete synthetic site with exactly ``teams`` teams into ``out``.

    Refuses to write over an existing ``content/`` unless ``overwrite`` is true, in
    which case ``content/`` and ``okrsite.toml`` are removed first.  Returns counts.
    """
    out = Path(out)
    if (out / "content").exists() or (out / "okrsite.toml").exists():
        if not overwrite:
            raise FileExistsError(f"{out} already holds a site; use overwrite=True (--force)")
        shutil.rmtree(out / "content", ignore_errors=True)
        (out / "okrsite.toml").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return _Gen(out, teams, seed, today).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teams", type=int, required=True, help="total number of teams (>= 1)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--today",
        type=date.fromisoformat,
        default=DEFAULT_TODAY,
        help="build date the site is generated for (default 2026-11-22)",
    )
    ap.add_argument(
        "--force",
        action="store_true",
        help="replace content/ and okrsite.toml if OUT already holds a site",
    )
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    if args.teams < 1:
        ap.error("--teams must be at least 1")
    try:
        c = generate_site(args.out, args.teams, args.seed, args.today, overwrite=args.force)
    except FileExistsError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return 2
    print(
        f"teams={c['teams']} okr_files={c['okr_files']} checkins={c['checkins']} "
        f"files={c['files']} bytes={c['bytes']} ({c['bytes'] / 1e6:.1f} MB) "
        f"max_depth={c['max_depth']} cycles={','.join(c['cycles'])} in {c['seconds']}s"
    )
    return 0


# Self-check of the lint-clean promises of the pools (cheap; runs on import).
for _k, _t in [x for pool in OBJ_DOMAIN.values() for x in pool] + OBJ_GENERIC:
    assert not re.search(r"\d", _t), _t
for _tpl in (
    [x for d in (UP_DOMAIN, DOWN_DOMAIN) for p in d.values() for x in p] + UP_GENERIC + DOWN_GENERIC
):
    assert not _tpl[1].lower().startswith(ACTIVITY_VERBS), _tpl
    assert ID_RE.match(_tpl[0]), _tpl
for _names in TOPICS.values():
    assert not any(re.search(r"\d", _n) for _n in _names)

if __name__ == "__main__":
    sys.exit(main())
