"""Phrase bank for scripts/make_demo_scenario.py (fictional scenario).

Everything here is invented: the operator "Fibrelune", its competitors, the news
outlets, the journalist and the people. ``{slot}`` markers are filled by the
generator (``{brand}``, ``{at}`` for the brand's handle, ``{city}``, ``{amount}``...);
every text names the brand so that the demo watch ``Fibrelune OR #fibrelune OR @fibrelune``
matches it.
"""

from __future__ import annotations

FR_FIRST = ["Camille", "Léa", "Hugo", "Manon", "Lucas", "Inès", "Théo", "Chloé", "Nathan",
            "Jade", "Louis", "Emma", "Arthur", "Zoé", "Jules", "Lina", "Malo", "Sarah", "Yanis",
            "Clara", "Noé", "Anaïs", "Rayan", "Margaux", "Bastien", "Elsa", "Mehdi", "Pauline",
            "Quentin", "Océane", "Karim", "Julie", "Romain", "Aurélie", "Nicolas", "Fatou",
            "Thomas", "Amandine", "Sofiane", "Élodie", "Gaëlle", "Loïc", "Yasmine", "Maël"]
FR_LAST = ["Martin", "Bernard", "Roux", "Fontaine", "Lefèvre", "Garnier", "Chevalier", "Moreau",
           "Girard", "Lambert", "Bonnet", "Faure", "Mercier", "Blanc", "Guérin", "Boyer",
           "Perrin", "Morel", "Gauthier", "Dumas", "Le Gall", "Benali", "Nguyen", "Diallo",
           "Marchand", "Colin", "Vidal", "Caron", "Picard", "Renaud", "Aubert", "Leclerc"]
EN_FIRST = ["Oliver", "Amelia", "Jack", "Isla", "Harry", "Ava", "George", "Mia", "Noah",
            "Grace", "Ethan", "Chloe", "Liam", "Sophie", "Ryan", "Hannah", "Daniel", "Megan",
            "Sam", "Priya", "Owen", "Freya", "Lucas", "Maya", "Ben", "Erin"]
EN_LAST = ["Carter", "Hughes", "Walsh", "Patel", "Bennett", "Turner", "Price", "Fraser",
           "Collins", "Murphy", "Reid", "Shaw", "Doyle", "Hayes", "Ellis", "Kaur", "Brooks",
           "Ward", "Foster", "Quinn"]
INSTANCES = ["piaille.example", "mastodon.example", "social.example", "toot.example",
             "framapiaf.example", "eldritch.example"]
CITIES = ["Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Toulouse", "Grenoble", "Strasbourg",
          "Montpellier", "Brest", "Dijon", "Angers", "Tours", "Metz", "Caen", "Annecy",
          "Limoges", "Perpignan", "Nancy", "Rouen", "Marseille", "Clermont-Ferrand", "Pau",
          "Orléans", "Besançon", "La Rochelle", "Lorient", "Poitiers"]
REGIONS = ["Bretagne", "Occitanie", "Normandie", "Auvergne", "Alsace", "Pays de la Loire",
           "Nouvelle-Aquitaine", "Bourgogne"]
COUNTRIES_FR = ["Espagne", "Italie", "Portugal", "Belgique", "Allemagne", "Grèce", "Maroc"]
COUNTRIES_EN = ["Spain", "Italy", "Portugal", "Belgium", "Germany", "Greece", "the UK"]
COMPETITORS = ["Ondine Mobile", "Zéphyr Télécom", "Kapla Net", "Brisa Fibre"]

# Fictional outlets; their handle doubles as the stem of their .invalid domain.
NEWS_OUTLETS = [
    {"handle": "courrier-numerique", "name": "Le Courrier Numérique", "followers": 182_000,
     "lang": "fr"},
    {"handle": "reseaux-mobiles-hebdo", "name": "Réseaux & Mobiles Hebdo", "followers": 86_500,
     "lang": "fr"},
    {"handle": "ouest-numerique", "name": "Ouest Numérique", "followers": 35_200, "lang": "fr"},
    {"handle": "tech-riviera", "name": "Tech Riviera", "followers": 41_800, "lang": "fr"},
    {"handle": "connected-ledger", "name": "The Connected Ledger", "followers": 124_000,
     "lang": "en"},
    {"handle": "eurotelecom-wire", "name": "EuroTelecom Wire", "followers": 58_300,
     "lang": "en"},
]

PREFIXES = {
    "fr": {
        "praise": ["", "", "", "Franchement, ", "Petit message positif : ", "Bon point : "],
        "question": ["", "", "", "Hello ! ", "Question bête : ", "Bonjour, "],
        "complaint": ["", "", "", "Bon. ", "Sérieusement, ", "Alors là… ", "Franchement, ",
                      "Pfff. ", "Je craque : "],
        "chatter": ["", "", "Tiens, ", "Au fait, "],
        "plain": [""],
    },
    "en": {
        "praise": ["", "", "", "Honestly, ", "Shout-out: ", "Credit where it's due: "],
        "question": ["", "", "", "Hi all, ", "Quick question: ", "Hey, "],
        "complaint": ["", "", "", "Ugh. ", "Seriously, ", "Not again: ", "Well. "],
        "chatter": ["", "", "Fun fact: ", "Side note: "],
        "plain": [""],
    },
}
SUFFIXES = {
    "fr": {
        "praise": ["", "", " 👍", " 😊", " 👏", " !"],
        "question": ["", "", " Merci !", " 🙏", " Merci d'avance."],
        "complaint": ["", "", "", " 😡", " 🙄", " !!", "…", " 😤", " 😩"],
        "chatter": ["", "", " 😄", " 🤷"],
        "plain": [""],
    },
    "en": {
        "praise": ["", "", " 👍", " 😊", " 👏", "!"],
        "question": ["", "", " Thanks!", " 🙏", " Cheers."],
        "complaint": ["", "", "", " 😡", " 🙄", "!!", "…", " 😤"],
        "chatter": ["", "", " 😄", " 🤷"],
        "plain": [""],
    },
}
TAGS = {
    "fr": ["#doubleprélèvement", "#Fibrelune", "#FibreluneRembourse", "#FibreluneFail",
           "#Fibrelune #doubleprélèvement", "", "", "#doubleprélèvement #Fibrelune"],
    "en": ["#chargedtwice", "#Fibrelune", "#FibreluneFail", "#Fibrelune #chargedtwice", "", ""],
}


def _t(*texts: str) -> list[dict[str, object]]:
    return [{"text": text} for text in texts]


SOCIAL_FR = {
    "praise": _t(
        "Fibre {brand} installée en {days} jours à {city}, technicien au top et {speed} en wifi.",
        "Le service client {brand} m'a réglé mon souci de box en {minutes} minutes. Ça change.",
        "Passé chez {brand} Mobile le mois dernier : bien meilleur réseau à {city}, et moins cher.",
        "La nouvelle appli {brand} & Moi est enfin fluide, bravo à l'équipe",
        "{brand} Box 5 reçue hier, branchée en dix minutes, débit stable. Je valide.",
        "Pour une fois qu'un opérateur tient ses promesses : fibre {brand} nickel depuis "
        "{months} mois.",
        "Coup de cœur pour la 5G {brand} dans le tram de {city}, ça capte partout.",
        "Merci {at} pour le geste commercial après la coupure de la semaine dernière",
        "Le conseiller {brand} de la boutique de {city} a pris le temps de tout m'expliquer.",
        "Roaming {brand} en {country} sans mauvaise surprise sur la facture, ça fait plaisir.",
        "{years} ans chez {brand} et jamais eu de vraie panne. Je touche du bois.",
        "Télétravail + visio toute la journée sur la fibre {brand}, zéro coupure cette semaine.",
    ),
    "question": _t(
        "Quelqu'un sait si la {brand} Box 5 gère le wifi 7 ?",
        "Question aux abonnés {brand} : la fibre est dispo à {city} centre ou pas encore ?",
        "{at} bonjour, comment activer l'eSIM sur un {phone} ?",
        "Vous êtes chez {brand} ? Ça vaut le coup pour du télétravail à {city} ?",
        "Le forfait {brand} {data} Go inclut le roaming en {country} ?",
        "Comment on résilie l'option TV chez {brand} sans passer une heure au téléphone ?",
        "{brand} ou {competitor} pour la fibre à {city} ? Vos retours m'intéressent.",
        "Le débit {brand} baisse le soir chez vous aussi ou c'est mon immeuble ?",
        "Quelqu'un a reçu le mail {brand} sur les nouveaux tarifs ? Ça augmente de combien ?",
        "Ma facture {brand} est un peu plus élevée ce mois-ci, c'est l'option sport ?",
        "{at} la portabilité du numéro prend combien de jours en ce moment ?",
    ),
    "complaint": _t(
        "coupure internet {brand} ce soir à {city}, ça revient quand ?",
        "l'appli {brand} & Moi plante encore à la connexion",
        "{wait} min d'attente au service client {brand} pour un changement d'adresse, c'est long",
        "technicien {brand} pas venu au rendez-vous ce matin, reporté à {weekday}. Bof.",
        "le wifi de la box {brand} ne passe pas à l'étage, il faut vraiment un répéteur ?",
        "débit {brand} divisé par deux depuis hier soir à {city}. Incident en cours {at} ?",
        "toujours pas de 5G {brand} dans mon quartier à {city} alors que la carte dit le contraire",
        "le décodeur {brand} TV redémarre tout seul en plein film, c'est pénible",
        "{at} trois jours pour répondre à un message, vous pouvez faire mieux",
        "la hotline {brand} m'a raccroché au nez après {wait} minutes d'attente",
    ),
    "chatter": _t(
        "je viens de passer ma box {brand} en mode bridge, on verra bien.",
        "comparatif des offres fibre à {city} : {brand} et {competitor} au coude à coude.",
        "{brand} sponsorise le festival de {city} cette année.",
        "nouvelle pub {brand} à la télé, avec un chien qui fait du télétravail",
        "déménagement à {city} : carton n°1, la box {brand}. Priorités.",
    ),
}
SOCIAL_EN = {
    "praise": _t(
        "Got {brand} fibre installed in {city} in {days} days, solid {speed} on wifi.",
        "{brand} support sorted my router issue in {minutes} minutes. Impressed.",
        "Moved to France and {brand} Mobile was the easiest part of the paperwork.",
        "Roaming with {brand} in {country} worked without any surprise on the bill.",
        "The {brand} & Me app update is actually good now, well done",
        "Six hours of video calls on {brand} fibre today and not a single drop.",
        "{at} thanks for the quick fix on my line yesterday!",
    ),
    "question": _t(
        "Does the {brand} Box 5 support wifi 7? Can't find it anywhere.",
        "Anyone using {brand} in {city}? Is the fibre reliable for working from home?",
        "{at} how do I activate an eSIM on a {phone}?",
        "{brand} or {competitor} for an expat in {city}? Which one has English support?",
        "Is roaming in {country} included in the {brand} {data} GB plan?",
        "My {brand} bill is a bit higher this month, is that the new price?",
    ),
    "complaint": _t(
        "{brand} internet down again tonight in {city}, any ETA?",
        "the {brand} app keeps crashing at login",
        "{wait} minutes on hold with {brand} just to change my address",
        "{brand} technician never showed up this morning, rescheduled to {weekday}",
        "speeds on {brand} halved since last night in {city}. Known issue {at}?",
        "no English option on the {brand} hotline, that's rough for expats",
    ),
    "chatter": _t(
        "switched my {brand} box to bridge mode, let's see how it goes.",
        "{brand} is sponsoring the {city} music festival this year.",
        "new {brand} ad has a dog working from home and I'm here for it",
    ),
}

FORUM_FR = {
    "question": [
        {"title": "[{brand}] Box 5 et wifi 7", "text": "Bonjour, la {brand} Box 5 gère-t-elle le "
         "wifi 7 ? Je n'ai rien trouvé dans la doc."},
        {"title": "Fibre {brand} à {city} : éligibilité ?", "text": "Le test d'éligibilité {brand} "
         "me dit non mais mes voisins l'ont. Quelqu'un a eu le cas ?"},
        {"title": "{brand} : mode bridge et IPv6", "text": "Quelqu'un a réussi à garder l'IPv6 en "
         "passant la box {brand} en bridge ?"},
        {"title": "Facture {brand} plus chère ce mois-ci", "text": "Ma facture {brand} a pris 3 € "
         "sans prévenir. Hausse de tarif ou option ajoutée ?"},
        {"title": "Portabilité vers {brand}", "text": "Combien de temps pour une portabilité vers "
         "{brand} en ce moment ? J'ai fait la demande {weekday}."},
    ],
    "complaint": [
        {"title": "[{brand}] Débit faible le soir à {city}", "text": "Depuis une semaine le débit "
         "{brand} tombe à 50 Mb/s vers 21 h. Vous aussi ?"},
        {"title": "Décodeur {brand} qui redémarre", "text": "Le décodeur {brand} TV redémarre "
         "plusieurs fois par soir. Échange demandé, pas de réponse."},
        {"title": "SAV {brand} injoignable", "text": "{wait} minutes d'attente chez {brand} pour "
         "un simple changement d'offre, c'est normal ?"},
    ],
    "praise": [
        {"title": "Retour d'expérience fibre {brand}", "text": "Abonné {brand} depuis "
         "{months} mois à {city} : {speed} stables, aucune coupure. Je recommande."},
        {"title": "{brand} : SAV efficace", "text": "Box {brand} changée en 48 h après une panne, "
         "rien à redire."},
    ],
}
FORUM_EN = {
    "question": [
        {"title": "{brand} fibre in {city} for remote work?", "text": "Thinking of signing up "
         "with {brand}. Is the fibre stable in the evening?"},
        {"title": "{brand} Box bridge mode", "text": "Has anyone kept IPv6 working with the "
         "{brand} box in bridge mode?"},
    ],
    "complaint": [
        {"title": "{brand} slow in the evening", "text": "My {brand} line drops to 50 Mbps every "
         "evening around 9pm. Same for you?"},
    ],
    "praise": [
        {"title": "{brand} review after a year", "text": "One year with {brand} in {city}: "
         "{speed}, one outage fixed the same day."},
    ],
}

REVIEWS_FR = {
    "praise": [
        {"stars": 5, "title": "Installation rapide", "text": "Fibre {brand} installée en {days} "
         "jours, technicien ponctuel et sympa."},
        {"stars": 4, "title": "Bon rapport qualité/prix", "text": "Forfait {brand} {data} Go au "
         "bon prix, réseau correct à {city}."},
        {"stars": 5, "title": "SAV réactif", "text": "Problème de box réglé par {brand} en une "
         "journée. Merci !"},
        {"stars": 4, "title": "Satisfait", "text": "{months} mois chez {brand}, rien à signaler, "
         "débit conforme."},
    ],
    "complaint": [
        {"stars": 2, "title": "Hotline trop lente", "text": "{wait} minutes d'attente chez {brand} "
         "à chaque appel."},
        {"stars": 2, "title": "Wifi faible", "text": "La box {brand} couvre mal un appartement de "
         "70 m², dommage."},
        {"stars": 3, "title": "Correct sans plus", "text": "Débit {brand} correct mais "
         "l'appli plante souvent."},
        {"stars": 1, "title": "Rendez-vous manqué", "text": "Technicien {brand} absent deux fois "
         "de suite, aucune excuse."},
    ],
    "chatter": [
        {"stars": 3, "title": "Moyen", "text": "Offre {brand} classique, ni mieux ni pire que "
         "{competitor}."},
    ],
}
REVIEWS_EN = {
    "praise": [
        {"stars": 5, "title": "Smooth setup", "text": "{brand} fibre installed in {days} days, "
         "friendly technician."},
        {"stars": 4, "title": "Good value", "text": "{brand} {data} GB plan, decent coverage "
         "in {city}."},
    ],
    "complaint": [
        {"stars": 2, "title": "No English support", "text": "{brand} hotline is French only, "
         "{wait} minutes on hold."},
        {"stars": 2, "title": "Weak wifi", "text": "The {brand} box barely covers a small flat."},
    ],
    "chatter": [
        {"stars": 3, "title": "Fine", "text": "{brand} does the job, nothing special."},
    ],
}

NEWS_FR = [
    {"title": "{brand} étend la fibre à {n} nouvelles communes en {region}",
     "text": "L'opérateur {brand} annonce le raccordement de {n} communes supplémentaires en "
     "{region} d'ici la fin de l'année."},
    {"title": "{brand} lance un forfait 5G à {price} € par mois",
     "text": "Le nouveau forfait {brand} inclut {data} Go et le roaming en Europe."},
    {"title": "Résultats : {brand} gagne {k} 000 abonnés fibre",
     "text": "Sur le trimestre, {brand} revendique {k} 000 nouveaux abonnés fibre."},
    {"title": "Baromètre des débits : {brand} dans le trio de tête à {city}",
     "text": "Selon notre baromètre, {brand} se classe parmi les trois meilleurs débits "
     "fibre mesurés à {city}."},
    {"title": "{brand} ouvre une boutique à {city}",
     "text": "{brand} inaugure une nouvelle boutique en centre-ville de {city}."},
    {"title": "{brand} teste le wifi 7 avec {n} foyers pilotes",
     "text": "{brand} équipe {n} foyers pilotes d'une box compatible wifi 7."},
]
NEWS_EN = [
    {"title": "{brand} expands fibre to {n} more towns in {region}",
     "text": "French operator {brand} says {n} more towns in {region} will be connected by "
     "year end."},
    {"title": "French operator {brand} unveils €{price} 5G plan",
     "text": "{brand}'s new plan bundles {data} GB and EU roaming."},
    {"title": "{brand} adds {k},000 fibre subscribers in quarter",
     "text": "{brand} reported {k},000 net fibre additions over the quarter."},
]

NORMAL = {
    "social": {"fr": SOCIAL_FR, "en": SOCIAL_EN},
    "forum": {"fr": FORUM_FR, "en": FORUM_EN},
    "reviews": {"fr": REVIEWS_FR, "en": REVIEWS_EN},
    "news": {"fr": NEWS_FR, "en": NEWS_EN},
}

OFFICIAL_NORMAL = {
    "fr": _t(
        "Maintenance programmée cette nuit entre 2 h et 5 h à {city}. Merci de votre patience. "
        "#Fibrelune",
        "Astuce #Fibrelune : redémarrez votre box depuis l'appli Fibrelune & Moi, rubrique "
        "Assistance.",
        "Le réseau fibre Fibrelune arrive à {city} ! Testez votre éligibilité sur notre site.",
        "Fibrelune sera présent au salon du numérique de {city} ce week-end, venez nous voir !",
    ),
    "en": _t(
        "Planned maintenance tonight 2-5am in {city}. Thanks for your patience. #Fibrelune",
        "#Fibrelune tip: restart your box from the Fibrelune & Me app, under Support.",
    ),
}

# -- the crisis: customers charged twice for their bill ------------------------------------

CRISIS = {
    "early": {
        "fr": _t(
            "quelqu'un d'autre a été prélevé deux fois par {brand} ce mois-ci ? 2 × {amount} € "
            "sur mon compte",
            "bizarre, double prélèvement {brand} sur mon relevé ce matin. {at} vous pouvez "
            "vérifier ?",
            "{at} bonjour, ma facture a été débitée deux fois ({amount} €). Je fais comment ?",
            "deux prélèvements {brand} de {amount} € le même jour. Erreur de ma banque ou de "
            "chez vous {at} ?",
            "ma banque me dit que c'est bien {brand} qui a prélevé deux fois. Quelqu'un d'autre ?",
        ),
        "en": _t(
            "anyone else charged twice by {brand} this month? {amount} taken out two times",
            "{at} hi, my bill was debited twice this morning ({amount}). What do I do?",
            "weird, two {brand} payments of {amount} on my statement today. Bank error or yours?",
        ),
    },
    "peak": {
        "fr": _t(
            "{at} vous m'avez prélevé DEUX FOIS {amount} € !! Je suis à découvert à cause de "
            "vous {tag}",
            "double prélèvement {brand} : {wait} min d'attente au service client et toujours "
            "personne. {tag}",
            "chez {brand} on paie deux fois et on attend une heure au téléphone. {tag}",
            "visiblement je ne suis pas seul : {brand} a débité deux fois ma facture. "
            "Remboursement quand ? {tag}",
            "agios de ma banque à cause du double prélèvement {brand}. Qui rembourse les frais ? "
            "{tag}",
            "ça fait {years} ans que je suis chez {brand} et là ils me prennent {amount} € deux "
            "fois sans prévenir. {tag}",
            "le chat {brand} répond « incident connu » mais rien sur le remboursement. {tag}",
            "mon loyer part demain et {brand} vient de me prélever deux fois. Merci bien {tag}",
            "{tag} encore un abonné {brand} prélevé deux fois ici à {city}.",
            "{at} un double prélèvement et pas un mot d'excuse ni d'explication ? {tag}",
            "{brand} m'a prélevé deux fois, j'ai fait opposition. On en parle de la com' ? {tag}",
            "double débit {brand} sur le compte de ma mère, {amount} € chacun, elle est "
            "retraitée… {tag}",
            "toute la famille est chez {brand} : trois lignes, trois doubles prélèvements. {tag}",
            "le serveur vocal {brand} raccroche tout seul. Double prélèvement et aucun recours. "
            "{tag}",
        ),
        "en": _t(
            "{at} you charged me twice ({amount})!! Now I'm overdrawn. {tag}",
            "{brand} double billing: {wait} minutes on hold and nobody picks up. {tag}",
            "so {brand} took my bill twice and support just says 'known incident'. Refund when? "
            "{tag}",
            "bank fees because {brand} charged me twice. Who pays for those? {tag}",
            "{brand} charged my whole family twice this month. Three lines, three double "
            "payments. {tag}",
            "{at} not a word from you about charging everyone twice? {tag}",
        ),
    },
    "after": {
        "fr": _t(
            "{brand} annonce un remboursement sous 48 h pour le double prélèvement. On verra… "
            "{tag}",
            "au moins {brand} a reconnu le problème. J'attends mes {amount} €. {tag}",
            "toujours pas remboursé du double prélèvement {brand}, et les frais bancaires ? {tag}",
            "remboursement {brand} reçu, merci d'avoir communiqué quand même. {tag}",
            "le communiqué de {brand} arrive six heures après le début. Trop tard. {tag}",
            "{at} le remboursement inclut-il les frais de rejet de ma banque ? {tag}",
            "bonne réaction de {brand} finalement, remboursé en une journée. {tag}",
        ),
        "en": _t(
            "{brand} says refunds within 48h for the double charge. We'll see. {tag}",
            "still no refund from {brand} for the double charge. {tag}",
            "got my refund from {brand}, took a while but fair enough. {tag}",
            "{at} does the refund cover the bank fees too? {tag}",
        ),
    },
    "forum": {
        "fr": [
            {"title": "[{brand}] Double prélèvement ce mois-ci ?", "text": "Prélevé deux fois "
             "{amount} € par {brand} aujourd'hui. Vous êtes nombreux dans ce cas ?"},
            {"title": "Double prélèvement {brand} - qui est concerné ?", "text": "Même chose ici, "
             "deux débits {brand} de {amount} €. Le SAV ne répond pas."},
            {"title": "Double prélèvement {brand} : que faire ?", "text": "Faut-il faire "
             "opposition auprès de la banque ou attendre le remboursement de {brand} ?"},
        ],
        "en": [
            {"title": "{brand} charged twice?", "text": "Two {brand} payments of {amount} this "
             "morning. Anyone else?"},
        ],
    },
    "reviews": {
        "fr": [
            {"stars": 1, "title": "Prélevé deux fois", "text": "{brand} m'a prélevé deux fois ma "
             "facture et le service client est injoignable."},
            {"stars": 1, "title": "Double prélèvement inadmissible", "text": "Découvert et agios "
             "à cause du double prélèvement {brand}."},
            {"stars": 2, "title": "Erreur de facturation", "text": "Double débit {brand} ce "
             "mois-ci, on attend le remboursement."},
        ],
        "en": [
            {"stars": 1, "title": "Charged twice", "text": "{brand} charged me twice and support "
             "is unreachable."},
        ],
    },
    "news": [
        {"lang": "fr", "after_h": 3.2, "outlet": "courrier-numerique",
         "title": "Des abonnés Fibrelune prélevés deux fois",
         "text": "De nombreux abonnés de l'opérateur Fibrelune signalent un double prélèvement de "
         "leur facture mensuelle. L'opérateur n'a pas encore réagi."},
        {"lang": "fr", "after_h": 4.1, "outlet": "reseaux-mobiles-hebdo",
         "title": "Double prélèvement : le service client de Fibrelune saturé",
         "text": "Les appels au service client de Fibrelune se multiplient depuis ce matin."},
        {"lang": "en", "after_h": 4.6, "outlet": "connected-ledger",
         "title": "Fibrelune customers report being charged twice",
         "text": "Customers of French operator Fibrelune say their monthly bill was taken twice."},
        {"lang": "fr", "after_h": 6.9, "outlet": "ouest-numerique",
         "title": "Fibrelune promet un remboursement sous 48 heures",
         "text": "Fibrelune reconnaît un incident technique à l'origine du double prélèvement et "
         "promet un remboursement automatique sous 48 heures."},
        {"lang": "en", "after_h": 7.4, "outlet": "eurotelecom-wire",
         "title": "Fibrelune blames technical glitch for double billing, promises refunds",
         "text": "Fibrelune says the extra payments will be refunded automatically within 48 "
         "hours."},
        {"lang": "fr", "after_h": 26.0, "outlet": "tech-riviera",
         "title": "Double prélèvement Fibrelune : les remboursements ont commencé",
         "text": "Les premiers abonnés Fibrelune touchés par le double prélèvement disent avoir "
         "été remboursés."},
    ],
}

JOURNALIST_POST = (
    "⚠️ #Fibrelune : des centaines d'abonnés signalent un double prélèvement de leur facture ce "
    "matin, certains se retrouvent à découvert. Le service client est saturé. Contacté, "
    "l'opérateur n'a pas encore réagi. #doubleprélèvement"
)
JOURNALIST_COMMENTS = {
    "fr": ["", "", "", "Pareil ici. ", "Même chose pour moi ! ", "Confirmé, prélevé deux fois. ",
           "Inadmissible. ", "Ma sœur aussi. "],
    "en": ["", "", "Same here. ", "Can confirm. ", "Me too. "],
}
STATEMENT = {
    "fr": "Information importante : un incident technique a entraîné un double prélèvement pour "
    "une partie de nos abonnés. Les sommes seront remboursées automatiquement sous 48 h, frais "
    "bancaires compris sur justificatif. Toutes nos excuses. #Fibrelune",
    "en": "Important: a technical incident caused some customers to be charged twice. The extra "
    "payment will be refunded automatically within 48 hours, including bank fees on proof. We "
    "apologise. #Fibrelune",
}
