"""``flask demo-data``: a deterministic, realistic académie to try the portal.

Everything is drawn from a seeded ``random.Random``: the same seed gives the same
establishments, catalogue, candidates and numbers. Registrations go through the shared
primitive ``inscriptions.insert_inscription`` so numbers, versions and the unload
sequence are exactly what the services would have produced.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import exists, select, update

from . import generation
from .extensions import db
from .models import (
    Candidat,
    Echange,
    Eleve,
    Etablissement,
    HistoriqueStatut,
    Inscription,
    InscriptionVersion,
    LaissezPasser,
    OuvertureService,
    SessionExamen,
    Specialite,
    StatutPublication,
    utcnow,
)
from .services import audit, gestionnaires, inscriptions, passwords, referentiel
from .services.identite import cle_identite

URL = "http://127.0.0.1:5000"
ANNEE = 2027
ACADEMIE = "Académie de Lyon"
BATCH_SIZE = 300

# Fixed demonstration logins (they satisfy the password policy).
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@ac-demo.fr", "Demo-Admin-Rectorat-2027!"
GESTIONNAIRE_EMAIL, GESTIONNAIRE_PASSWORD = "gestionnaire@ac-demo.fr", "Demo-Gestion-Rectorat-2027!"
SUIVI_PASSWORD = "Demo-Suivi-2027!"
POSTE_PASSWORD = "Demo-Poste-2027!"
SECRET_CANDIDAT = "Demo-Candidat-2027!"
SYSTEME = {"type": "systeme", "id": None, "label": "données de démonstration"}

# --- Reference lists -----------------------------------------------------------------

# (exam, code, label, pole, flags): flags "p" progressive form allowed, "e" European section possible.
SPECIALITES = (
    ("BCP", "40025510", "Métiers de l'électricité et de ses environnements connectés", "elec", "pe"),
    ("BCP", "40031213", "Assistance à la gestion des organisations et de leurs activités", "tertiaire", "pe"),
    ("BCP", "40031216", "Métiers du commerce et de la vente option A animation et gestion de l'espace "
                        "commercial", "tertiaire", "pe"),
    ("BCP", "40031217", "Métiers du commerce et de la vente option B prospection clientèle et valorisation "
                        "de l'offre commerciale", "tertiaire", "e"),
    ("BCP", "40033404", "Métiers de l'accueil", "tertiaire", "e"),
    ("BCP", "40025214", "Maintenance des véhicules option A voitures particulières", "auto", "p"),
    ("BCP", "40025215", "Maintenance des véhicules option B véhicules de transport routier", "auto", ""),
    ("BCP", "40025408", "Technicien en chaudronnerie industrielle", "meca", ""),
    ("BCP", "40025012", "Technicien en réalisation de produits mécaniques option réalisation et suivi de "
                        "productions", "meca", ""),
    ("BCP", "40025008", "Maintenance des systèmes de production connectés", "meca", "p"),
    ("BCP", "40022108", "Cuisine", "hotel", "pe"),
    ("BCP", "40022107", "Commercialisation et services en restauration", "hotel", "e"),
    ("BCP", "40033003", "Accompagnement, soins et services à la personne", "social", "p"),
    ("BCP", "40033008", "Animation - enfance et personnes âgées", "social", ""),
    ("BCP", "40031105", "Logistique", "logistique", ""),
    ("BCP", "40031106", "Organisation de transport de marchandises", "logistique", "e"),
    ("BCP", "40025516", "Cybersécurité, informatique et réseaux, électronique", "numerique", "e"),
    ("BCP", "40023209", "Technicien du bâtiment : organisation et réalisation du gros œuvre", "batiment", ""),
    ("BCP", "40023304", "Aménagement et finition du bâtiment", "batiment", ""),
    ("BCP", "40023413", "Technicien menuisier agenceur", "batiment", ""),
    ("BCP", "40022710", "Installateur en chauffage, climatisation et énergies renouvelables", "elec", ""),
    ("BCP", "40024214", "Métiers de la mode - vêtements", "mode", "e"),
    ("BCP", "40034402", "Métiers de la sécurité", "social", ""),
    ("BCP", "40033608", "Esthétique cosmétique parfumerie", "beaute", "e"),
    ("CAP", "50022135", "Cuisine", "hotel", "p"),
    ("CAP", "50025525", "Électricien", "elec", "p"),
    ("CAP", "50033619", "Métiers de la coiffure", "beaute", "p"),
    ("CAP", "50033610", "Esthétique cosmétique parfumerie", "beaute", ""),
    ("CAP", "50022133", "Pâtissier", "bouche", "p"),
    ("CAP", "50022126", "Boulanger", "bouche", ""),
    ("CAP", "50022125", "Boucher", "bouche", ""),
    ("CAP", "50033405", "Commercialisation et services en hôtel-café-restaurant", "hotel", ""),
    ("CAP", "50031213", "Équipier polyvalent du commerce", "tertiaire", "p"),
    ("CAP", "50023218", "Maçon", "batiment", ""),
    ("CAP", "50023410", "Menuisier fabricant", "batiment", ""),
    ("CAP", "50023324", "Peintre applicateur de revêtements", "batiment", ""),
    ("CAP", "50023322", "Carreleur mosaïste", "batiment", ""),
    ("CAP", "50025216", "Maintenance des véhicules option A voitures particulières", "auto", "p"),
    ("CAP", "50033009", "Accompagnant éducatif petite enfance", "social", "p"),
    ("CAP", "50034301", "Agent de propreté et d'hygiène", "social", ""),
    ("CAP", "50022714", "Installateur en froid et conditionnement d'air", "elec", ""),
    ("CAP", "50022717", "Monteur en installations sanitaires", "batiment", ""),
    ("CAP", "50024212", "Métiers de la mode - vêtement flou", "mode", ""),
    ("CAP", "50031103", "Opérateur/opératrice logistique", "logistique", ""),
    ("CAP", "50025410", "Serrurier métallier", "meca", ""),
    ("CAP", "50022137", "Production et service en restaurations (rapide, collective, cafétéria)",
     "hotel", ""),
    ("CAP", "50025010", "Conducteur d'installations de production", "meca", ""),
    ("BEP", "50031204", "Métiers de la relation client", "tertiaire", ""),
    ("BEP", "50025502", "Métiers de l'électricité et de ses environnements connectés", "elec", ""),
    ("BEP", "50025213", "Maintenance des matériels et des véhicules", "auto", ""),
    ("BEP", "50022109", "Métiers de la restauration et de l'hôtellerie", "hotel", ""),
    ("BEP", "50033003", "Accompagnement, soins et services à la personne", "social", ""),
    ("BP", "45033602", "Coiffure", "beaute", "p"),
    ("BP", "45022106", "Boulanger", "bouche", "p"),
    ("BP", "45022110", "Arts de la cuisine", "hotel", ""),
    ("BP", "45025511", "Électricien", "elec", "p"),
    ("BP", "45033607", "Esthétique cosmétique parfumerie", "beaute", ""),
    ("BP", "45022104", "Boucher", "bouche", ""),
    ("BP", "45023408", "Menuisier", "batiment", ""),
    ("BP", "45023210", "Maçon", "batiment", ""),
    ("BP", "45022112", "Barman", "hotel", ""),
    ("MC4", "01022104", "Sommellerie", "hotel", ""),
    ("MC4", "01025513", "Technicien en énergies renouvelables option A énergie électrique", "elec", ""),
    ("MC4", "01033404", "Accueil-réception", "tertiaire", ""),
    ("MC4", "01022111", "Organisateur de réceptions", "hotel", ""),
    ("MC5", "01022105", "Employé traiteur", "bouche", ""),
    ("MC5", "01022106", "Cuisinier en desserts de restaurant", "hotel", ""),
    ("MC5", "01022103", "Pâtisserie boulangère", "bouche", ""),
    ("MC5", "01033006", "Aide à domicile", "social", ""),
    ("MC5", "01025201", "Maintenance des moteurs diesel et de leurs équipements", "auto", ""),
    ("MC5", "01022306", "Vendeur spécialisé en alimentation", "bouche", ""),
    ("BTS", "32025516", "Systèmes numériques option A informatique et réseaux", "numerique", "p"),
    ("BTS", "32025517", "Systèmes numériques option B électronique et communications", "numerique", ""),
    ("BTS", "32031213", "Management commercial opérationnel", "tertiaire", "p"),
    ("BTS", "32031212", "Négociation et digitalisation de la relation client", "tertiaire", ""),
    ("BTS", "32032613", "Services informatiques aux organisations option A solutions d'infrastructure, "
                        "systèmes et réseaux", "numerique", ""),
    ("BTS", "32032614", "Services informatiques aux organisations option B solutions logicielles et "
                        "applications métiers", "numerique", ""),
    ("BTS", "32031408", "Comptabilité et gestion", "tertiaire", "p"),
    ("BTS", "32031019", "Gestion de la PME", "tertiaire", ""),
    ("BTS", "32032410", "Support à l'action managériale", "tertiaire", ""),
    ("BTS", "32025007", "Conception des processus de réalisation de produits option A production unitaire",
     "meca", ""),
    ("BTS", "32025013", "Maintenance des systèmes option A systèmes de production", "meca", ""),
    ("BTS", "32025514", "Électrotechnique", "elec", "p"),
    ("BTS", "32033410", "Management en hôtellerie-restauration", "hotel", ""),
    ("BTS", "32023205", "Bâtiment", "batiment", ""),
    ("BTS", "32031104", "Gestion des transports et logistique associée", "logistique", ""),
    ("BTS", "32020011", "Conception et réalisation de systèmes automatiques", "meca", ""),
    ("BTS", "32033404", "Tourisme", "tertiaire", ""),
    ("BTS", "32033002", "Économie sociale familiale", "social", ""),
    ("BTS", "32022710", "Fluides, énergies, domotique option A génie climatique et fluidique", "elec", ""),
    ("BTS", "32025217", "Maintenance des véhicules option A voitures particulières", "auto", ""),
    ("BTS", "32024209", "Métiers de la mode - vêtements", "mode", ""),
    ("BTS", "32033611", "Métiers de l'esthétique-cosmétique-parfumerie option A management", "beaute", ""),
)

# Specialties not (yet) published, to make the catalogue page worth a look:
# code -> (status, frozen by a manager, the catalogue flag that explains it).
NON_PUBLIEES = {
    "40025516": ("a_publier_validation", False, "validation_rectorat"),
    "50025010": ("non_publie", True, None),
    "40034402": ("non_publie", True, None),
    "32024209": ("a_publier_habilitation", False, "habilitation_requise"),
    "32033611": ("a_publier_acces_direct", False, "acces_direct_a_verifier"),
    "01022111": ("pret", True, None),
    "45022112": ("a_publier", False, None),
    "01025201": ("non_integrable", False, "integrable"),
}

EXAMENS_PAR_TYPE = {
    "LP": ("BCP", "CAP", "BEP", "MC4", "MC5"),
    "LPO": ("BCP", "CAP", "BEP", "MC4", "BTS"),
    "LGT": ("BTS",),
    "CFA": ("CAP", "BP", "BCP", "MC4", "MC5", "BTS"),
    "GRETA": ("CAP", "BP", "MC5"),
}


@dataclass(frozen=True)
class EtabDemo:
    numero: str  # the seven digits of the UAI; the check letter is computed
    type: str
    nom: str
    commune: str
    poles: tuple[str, ...]
    # None: not asked yet (or not concerned); True/False: the European-section answer.
    europe: bool | None = False
    # "vitrine" (printed demo login), "defaut" (default passwords), "ferme" (service closed),
    # "sans_reponse" (European question not answered yet).
    role: str = ""
    ccf: bool = True
    base: bool = False  # has a pupil base

    @property
    def code(self) -> str:
        return uai(self.numero)


ETABLISSEMENTS = (
    EtabDemo("0690041", "LP", "Lycée professionnel Jacquard", "Lyon", ("tertiaire", "elec", "hotel"),
             True, "vitrine", base=True),
    EtabDemo("0692418", "LP", "Lycée professionnel Marcel Sembat", "Vénissieux", ("meca", "auto", "elec"),
             None, "defaut"),
    EtabDemo("0690128", "LP", "Lycée professionnel Louis Lumière", "Lyon", ("numerique", "elec", "tertiaire"),
             True, base=True),
    EtabDemo("0693045", "LP", "Lycée professionnel Hélène Boucher", "Vénissieux",
             ("social", "beaute", "mode")),
    EtabDemo("0690106", "LP", "Lycée professionnel Jean Lurçat", "Lyon", ("tertiaire", "logistique"), True),
    EtabDemo("0692566", "LP", "Lycée professionnel Camille Claudel", "Caluire-et-Cuire",
             ("social", "tertiaire"), False, "ferme"),
    EtabDemo("0691626", "LP", "Lycée professionnel Émile Béjuit", "Bron", ("auto", "meca")),
    EtabDemo("0693371", "LP", "Lycée professionnel Georges Lamarque", "Rillieux-la-Pape",
             ("batiment", "elec")),
    EtabDemo("0420029", "LP", "Lycée professionnel Benoît Charvet", "Saint-Étienne",
             ("hotel", "bouche", "tertiaire"), True, base=True),
    EtabDemo("0421788", "LP", "Lycée professionnel Adrien Testud", "Le Chambon-Feugerolles", ("meca", "elec"),
             None, "sans_reponse"),
    EtabDemo("0010016", "LP", "Lycée professionnel Joseph-Marie Carriat", "Bourg-en-Bresse",
             ("batiment", "meca", "auto")),
    EtabDemo("0011119", "LP", "Lycée professionnel Alexandre Bérard", "Ambérieu-en-Bugey",
             ("tertiaire", "logistique", "social"), True, base=True),
    EtabDemo("0694127", "LP", "Lycée professionnel François Cevert", "Écully", ("hotel", "bouche"),
             None, "defaut"),
    EtabDemo("0690037", "LPO", "Lycée polyvalent La Martinière Diderot", "Lyon",
             ("elec", "meca", "numerique", "mode"), True, base=True),
    EtabDemo("0421856", "LPO", "Lycée polyvalent Jean Monnet", "Saint-Étienne", ("tertiaire", "numerique")),
    EtabDemo("0420044", "LPO", "Lycée polyvalent Claude Lebois", "Saint-Chamond",
             ("meca", "elec", "tertiaire"), True),
    EtabDemo("0692717", "LPO", "Lycée polyvalent Aragon-Picasso", "Givors",
             ("tertiaire", "social", "logistique")),
    EtabDemo("0690102", "LPO", "Lycée polyvalent Édouard Branly", "Lyon", ("elec", "numerique", "batiment")),
    EtabDemo("0690116", "LPO", "Lycée polyvalent Marie Curie", "Villeurbanne",
             ("social", "tertiaire", "beaute"), True, base=True),
    EtabDemo("0010010", "LPO", "Lycée polyvalent Arbez Carme", "Bellignat", ("meca", "numerique")),
    EtabDemo("0420034", "LPO", "Lycée polyvalent Albert Camus", "Firminy", ("batiment", "tertiaire")),
    EtabDemo("0692800", "LPO", "Lycée polyvalent René Descartes", "Saint-Genis-Laval",
             ("hotel", "tertiaire"), True),
    EtabDemo("0690026", "LGT", "Lycée général et technologique Ampère Saxe", "Lyon", ("tertiaire",), None),
    EtabDemo("0420041", "LGT", "Lycée général et technologique Honoré d'Urfé", "Saint-Étienne",
             ("tertiaire", "social"), None),
    EtabDemo("0010013", "LGT", "Lycée général et technologique Lalande", "Bourg-en-Bresse",
             ("tertiaire", "numerique"), None),
    EtabDemo("0690030", "LGT", "Lycée général et technologique Jean Perrin", "Lyon", ("numerique", "meca"),
             None, "defaut"),
    EtabDemo("0694312", "CFA", "CFA du BTP", "Dardilly", ("batiment", "elec"), False, "vitrine"),
    EtabDemo("0691723", "CFA", "CFA de l'industrie du Rhône", "Vénissieux", ("meca", "elec", "auto")),
    EtabDemo("0421950", "CFA", "CFA des métiers de bouche de la Loire", "Saint-Étienne", ("bouche", "hotel"),
             ccf=False),
    EtabDemo("0693520", "CFA", "CFA de la coiffure et de l'esthétique", "Lyon", ("beaute",), True),
    EtabDemo("0011250", "CFA", "CFA interprofessionnel de l'Ain", "Bourg-en-Bresse",
             ("tertiaire", "auto", "hotel"), ccf=False),
    EtabDemo("0692950", "GRETA", "GRETA Lyon Métropole", "Lyon", ("tertiaire", "social", "hotel"), None),
    EtabDemo("0422000", "GRETA", "GRETA Loire", "Saint-Étienne", ("batiment", "beaute", "bouche"), None),
)
VITRINE_LP, VITRINE_CFA, VITRINE_DEFAUT = ETABLISSEMENTS[0], ETABLISSEMENTS[26], ETABLISSEMENTS[1]

NOMS = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier",
    "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard",
    "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard",
    "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger",
    "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre",
    "Benoît", "Rey", "Leclerc", "Rolland", "Guillaume", "Lecomte", "Lopez", "Dupuy", "Guillot", "Hubert",
    "Berger", "Carpentier", "Sanchez", "Dupuis", "Moulin", "Deschamps", "Huet", "Vasseur", "Perez", "Boucher",
    "Fleury", "Royer", "Klein", "Jacquet", "Adam", "Poirier", "Marty", "Aubry", "Guyot", "Carré",
    "Charpentier", "Ménard", "Maillard", "Baron", "Bertin", "Bailly", "Hervé", "Schneider", "Fernandez",
    "Le Gall", "Collet", "Léger", "Bouvier", "Prévost", "Millet", "Perrot", "Cousin", "Germain", "Besson",
    "Pelletier", "Lévêque", "Perrier", "Leblanc", "Barré", "Lebrun", "Marchal", "Weber", "Boulanger",
    "Monnier",
    "Michaud", "Rodriguez", "Gillet", "Étienne", "Tessier", "Chauvin", "Da Silva", "Lemaître", "Bénard",
    "Maréchal", "Reynaud", "Barthélemy", "Cordier", "Lejeune", "Delaunay", "Pasquier", "N'Diaye", "Diallo",
    "Traoré", "Coulibaly", "Camara", "Benali", "Haddad", "Nguyen", "Ben Salah", "Mendes", "Ferreira",
    "Dos Santos", "Öztürk", "Kaya", "Belkacem", "Saïdi", "D'Almeida", "Aït-Ouali", "Lefèvre-Durand",
    "Martin-Garcia", "Moreau-Lambert", "Le Bihan", "Sainte-Marie", "Bouchard-Réveillère",
)
PRENOMS = {
    "F": (
        "Emma", "Jade", "Louise", "Alice", "Chloé", "Léa", "Manon", "Inès", "Léna", "Zoé", "Camille", "Sarah",
        "Juliette", "Lucie", "Clara", "Anaïs", "Maëlys", "Océane", "Mathilde", "Romane", "Eva", "Lina",
        "Yasmine", "Nour", "Aya", "Maryam", "Salomé", "Noémie", "Margaux", "Élise", "Héloïse", "Adèle",
        "Agathe", "Ambre", "Rose", "Anna", "Lou", "Capucine", "Marie-Claire", "Anne-Sophie", "Marie-Lou",
        "Lou-Anne", "Fatoumata", "Aïcha", "Kenza", "Laurine", "Émilie", "Charlotte", "Pauline", "Justine",
        "Célia", "Maëva", "Élodie", "Cécile", "Sandrine", "Sophie", "Amandine", "Aurélie", "Nadège", "Hélène",
    ),
    "M": (
        "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Maël", "Lucas", "Hugo", "Noah",
        "Liam", "Nathan", "Ethan", "Paul", "Tom", "Théo", "Sacha", "Mohamed", "Rayan", "Enzo", "Mathis",
        "Timéo", "Nolan", "Yanis", "Kylian", "Axel", "Baptiste", "Clément", "Maxime", "Antoine", "Alexandre",
        "Quentin", "Thomas", "Romain", "Julien", "Jérémy", "Kévin", "Anthony", "Mehdi", "Bilal", "Ibrahim",
        "Moussa", "Mamadou", "Jean-Baptiste", "Pierre-Louis", "Loïc", "Gaëtan", "Benoît", "Noé", "Évan",
        "Jérôme", "Sébastien", "Nicolas", "Frédéric", "Stéphane", "Olivier", "Anis", "Ilyès", "Killian",
    ),
}
COMMUNES_NAISSANCE = (
    "Lyon", "Lyon", "Lyon", "Villeurbanne", "Vénissieux", "Saint-Étienne", "Saint-Étienne", "Bourg-en-Bresse",
    "Vaulx-en-Velin", "Bron", "Roanne", "Villefranche-sur-Saône", "Oyonnax", "Givors", "Rillieux-la-Pape",
    "Montbrison", "Firminy", "Caluire-et-Cuire", "Décines-Charpieu", "Saint-Priest", "Meyzieu",
    "Ambérieu-en-Bugey", "Grenoble", "Paris", "Marseille", "Clermont-Ferrand", "Vienne", "Mâcon",
)
# (town, country, nationality) for candidates born abroad.
NAISSANCES_ETRANGER = (
    ("Alger", "Algérie", "Algérienne"), ("Casablanca", "Maroc", "Marocaine"),
    ("Porto", "Portugal", "Portugaise"),
    ("Dakar", "Sénégal", "Sénégalaise"), ("Turin", "Italie", "Italienne"), ("Istanbul", "Turquie", "Turque"),
    ("Kinshasa", "République démocratique du Congo", "Congolaise"), ("Tunis", "Tunisie", "Tunisienne"),
)
ADRESSES = (
    ("69001", "Lyon"), ("69003", "Lyon"), ("69007", "Lyon"), ("69008", "Lyon"), ("69100", "Villeurbanne"),
    ("69200", "Vénissieux"), ("69120", "Vaulx-en-Velin"), ("69500", "Bron"), ("69800", "Saint-Priest"),
    ("69400", "Villefranche-sur-Saône"), ("69140", "Rillieux-la-Pape"), ("69330", "Meyzieu"),
    ("42000", "Saint-Étienne"), ("42300", "Roanne"), ("42600", "Montbrison"), ("42400", "Saint-Chamond"),
    ("01000", "Bourg-en-Bresse"), ("01100", "Oyonnax"), ("01500", "Ambérieu-en-Bugey"),
)
RUES = (
    "rue Victor Hugo", "rue de la République", "avenue Jean Jaurès", "rue Pasteur", "boulevard des Belges",
    "rue Garibaldi", "cours Lafayette", "rue Paul Bert", "chemin des Vignes", "allée des Tilleuls",
    "rue du Onze-Novembre", "place Carnot", "rue de l'Église", "impasse des Lilas", "avenue Berthelot",
    "rue des Frères Lumière", "montée de la Grande-Côte", "rue d'Alsace-Lorraine",
)
COMPLEMENTS = ("Bâtiment B", "Appartement 12", "Résidence Les Érables", "Escalier C, 3e étage",
               "Chez M. Dumas")
NOTES_S = (
    "Sous réserve de la validation des périodes de formation en milieu professionnel.",
    "Sous réserve de la production de l'attestation de formation aux premiers secours.",
    "Sous réserve de l'avis favorable du conseil de classe du troisième trimestre.",
)
# Year ranges of birth of the candidates of each exam, for a session held in June 2027.
NAISSANCE = {"BCP": (2008, 2010), "CAP": (2009, 2011), "BEP": (2010, 2011), "BTS": (2005, 2008),
             "BP": (2003, 2009), "MC4": (2006, 2008), "MC5": (2007, 2010)}
# Registrations per (establishment, specialty), by exam.
EFFECTIFS = {"BCP": (5, 14), "CAP": (4, 11), "BEP": (3, 8), "BTS": (5, 14), "BP": (4, 9),
             "MC4": (2, 6), "MC5": (2, 6)}
# Individual candidates: at least this many, and enough for the whole to reach INSCRIPTIONS_MIN.
PUBLIC_MIN, INSCRIPTIONS_MIN = 200, 2100
STATUTS_PUBLIC = ("individuel", "individuel", "individuel", "formation_continue", "enseignement_distance")
EXAMEN_FERME_PUBLIC = "BEP"
VITRINE_PUBLIC = dict(nom_naissance="Fontaine", nom_usage="Marchand", prenom1="Élodie", prenom2="Anne",
                      sexe="F", date_naissance=date(1994, 4, 12), commune_naissance="Lyon",
                      pays_naissance="France", nationalite="Française", statut="individuel",
                      email="elodie.fontaine@example.org", telephone="06 12 48 73 90",
                      adresse1="12 rue Victor Hugo", code_postal="69002", commune="Lyon", pays="France")
VITRINE_PUBLIC_SPECIALITE = ("CAP", "50022133")

_UAI_LETTRES = "ABCDEFGHJKLMNPRSTUVWXYZ"


def uai(numero: str) -> str:
    """A UAI code: seven digits and the check letter (the number modulo 23)."""
    return numero + _UAI_LETTRES[int(numero) % 23]


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


# --- The command ---------------------------------------------------------------------


# The environments where the demonstration may be loaded (PORTAL_ENV).
DEMO_ENVS = frozenset({"development", "testing"})


@click.command("demo-data")
@click.option("--reset", is_flag=True, help="Efface toutes les données avant de recharger la démonstration.")
@click.option("--if-empty", "if_empty", is_flag=True,
              help="Ne fait rien (et affiche les identifiants) si la base contient déjà des données.")
@click.option("--seed", default=ANNEE, show_default=True, type=int, help="Graine du tirage aléatoire.")
@click.option("--adresse", default=URL, show_default=True,
              help="Adresse du portail dans les liens affichés (celle où il est servi).")
@with_appcontext
def demo_data(reset: bool, if_empty: bool, seed: int, adresse: str) -> None:
    """Remplit la base avec une académie de démonstration et affiche les identifiants."""
    if current_app.config["ENV_NAME"] not in DEMO_ENVS:
        # Its logins and passwords are published (README): never in a production database.
        click.echo("flask demo-data refuse de s'exécuter en production : les données de démonstration "
                   "créent des comptes dont les mots de passe sont publiés. Rien n'est modifié. "
                   "Pour essayer le portail, utilisez PORTAL_ENV=development sur une autre base.", err=True)
        click.get_current_context().exit(1)
    if not database_is_empty():
        if if_empty:
            click.echo("Données de démonstration : base déjà remplie, rien n'est modifié.")
            _echo_logins_if_demo(adresse)
            return
        if not reset:
            click.echo("La base contient déjà des données (établissements, spécialités, sessions ou "
                       "inscriptions) : rien n'est modifié. Relancez avec --reset pour tout effacer et "
                       "recharger la démonstration.", err=True)
            click.get_current_context().exit(1)
        delete_all_data()
    try:
        counts = DemoBuilder(random.Random(seed)).build()
        audit.record("demo.chargee", actor=SYSTEME,
                     details={"graine": seed, "reinitialisation": reset, **counts})
        generation.bump()  # the pupils, which no trigger watches (portal/generation.py)
        db.session.commit()
    except BaseException:
        # Batches were committed on the way: leave an empty database, never a partial académie.
        db.session.rollback()
        delete_all_data()
        db.session.commit()
        raise
    click.echo(
        f"Données de démonstration chargées : {counts['etablissements']} établissements, "
        f"{counts['specialites']} spécialités, {_nombre(counts['inscriptions'])} inscriptions, "
        f"{_nombre(counts['eleves'])} élèves dans les bases élèves."
    )
    _echo_logins_if_demo(adresse)


COMMANDS = [demo_data]


def database_is_empty() -> bool:
    """No establishment, registration, specialty or session: nothing the demonstration would clash with."""
    return not any(db.session.scalar(select(exists().select_from(model)))
                   for model in (Etablissement, Inscription, Specialite, SessionExamen))


def delete_all_data() -> None:
    """Every row of every table, children first; the schema (owned by migrations) stays, and
    so does the row of the generation counter (``portal/generation.py``), which the migration
    creates: without it no process would keep the campaign data between requests."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "generation_donnees":
            db.session.execute(table.delete())
    db.session.flush()
    # The instances this session loaded are gone from the database: new rows may reuse their
    # keys, which must not meet the old instances in the identity map.
    db.session.expunge_all()


def _nombre(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


# --- The builder ---------------------------------------------------------------------


@dataclass
class PlannedInscription:
    """One registration to insert, with what happens to it afterwards."""

    at: datetime
    etab: Etablissement | None
    specialite: Specialite
    candidat: dict[str, Any]
    forme: str
    section_europeenne: bool | None
    eleve: dict[str, Any] | None = None
    annulee_at: datetime | None = None
    modifications: list[datetime] = field(default_factory=list)
    inscription_id: int | None = None


class DemoBuilder:
    """Builds the whole académie; registrations are committed in batches, the command commits the rest."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = utcnow().replace(microsecond=0)
        self.debut = self.now - timedelta(days=7)
        self._hashes: dict[str, str] = {}
        # When each establishment opened (and, if it did, closed) its registration service.
        self._ouverture: dict[str, tuple[datetime, datetime]] = {}
        self._cles: set[tuple[int, str]] = set()
        self._ines: set[str] = set()
        self.counts: dict[str, int] = {}

    def hash(self, password: str) -> str:
        """One (salted) hash per distinct password: identical passwords share it."""
        if password not in self._hashes:
            self._hashes[password] = passwords.hash_password(password)
        return self._hashes[password]

    def build(self) -> dict[str, int]:
        self.examens = referentiel.ensure_examens()
        self.admin = self._create_comptes()
        self.session = self._create_session()
        self._create_calendrier()
        self.specialites = self._create_catalogue()
        self.etablissements = self._create_etablissements()
        planned = self._plan_inscriptions()
        eleves = self._insert_inscriptions(planned)
        eleves += self._create_eleves_non_inscrits()
        self._apply_later_changes(planned)
        self._create_echanges()
        self.counts.update(etablissements=len(self.etablissements), specialites=len(self.specialites),
                           inscriptions=len(planned), eleves=eleves)
        return dict(self.counts)

    # -- accounts, session, calendar ----------------------------------------------------

    def _create_comptes(self):
        admin = gestionnaires.create_gestionnaire(email=ADMIN_EMAIL, nom="Claire Dumas-Lefèvre", role="admin",
                                                  password=ADMIN_PASSWORD, must_change=False)
        gestionnaires.create_gestionnaire(email=GESTIONNAIRE_EMAIL, nom="Julien N'Guessan",
                                          role="gestionnaire", password=GESTIONNAIRE_PASSWORD,
                                          must_change=False)
        return admin

    def _create_session(self) -> SessionExamen:
        session_examen = SessionExamen(
            annee=ANNEE, libelle=f"Session {ANNEE}", academie=ACADEMIE, date_examen=date(ANNEE, 6, 14),
            courante=True,
            texte_confirmation=(
                "Vérifiez attentivement les informations ci-dessus. Toute erreur doit être signalée à votre "
                "établissement (ou au rectorat pour les candidats individuels) avant la clôture des "
                "inscriptions. Conservez cette confirmation : elle vous sera demandée en cas de réclamation."
            ),
            texte_accueil=(f"Les préinscriptions à la session {ANNEE} des examens professionnels de "
                           f"l'{ACADEMIE[0].lower()}{ACADEMIE[1:]} sont ouvertes."),
        )
        db.session.add(session_examen)
        db.session.flush()
        return session_examen

    def _create_calendrier(self) -> None:
        fin = self.now + timedelta(days=60)
        for service in ("etablissement", "public"):
            db.session.add(OuvertureService(session_id=self.session.id, service=service, ouvert=True,
                                            debut=self.debut, fin=fin, fin_tardive=fin + timedelta(days=14)))
        # Individual candidates cannot register for this exam: a per-exam rule to show.
        db.session.add(OuvertureService(session_id=self.session.id, service="public",
                                        examen_id=self.examens[EXAMEN_FERME_PUBLIC].id, ouvert=False,
                                        debut=self.debut, fin=fin))
        db.session.flush()

    # -- catalogue -----------------------------------------------------------------------

    def _create_catalogue(self) -> dict[tuple[str, str], Specialite]:
        specialites = {}
        for examen, code, libelle, _pole, flags in SPECIALITES:
            specialite = Specialite(examen=self.examens[examen], code=code, libelle=libelle,
                                    forme_globale=True, forme_progressive="p" in flags,
                                    section_europeenne_possible="e" in flags,
                                    **self._catalogue_flags(code, examen))
            db.session.add(specialite)
            specialites[(examen, code)] = specialite
        db.session.flush()
        for specialite in specialites.values():
            self._create_statut(specialite)
        db.session.flush()
        return specialites

    def _catalogue_flags(self, code: str, examen: str) -> dict[str, bool]:
        flags = dict(integrable=True, actif=True,
                     habilitation_requise=self.rng.random() < 0.2,
                     validation_rectorat=self.rng.random() < 0.1,
                     acces_direct_a_verifier=examen == "BTS" and self.rng.random() < 0.3)
        flag = NON_PUBLIEES.get(code, ("publie", True, None))[2]
        if flag == "integrable":
            flags.update(integrable=False, actif=False)
        elif flag:
            flags[flag] = True
        return flags

    def _create_statut(self, specialite: Specialite) -> None:
        statut, gele, _flag = NON_PUBLIEES.get(specialite.code, ("publie", True, None))
        db.session.add(StatutPublication(session_id=self.session.id, specialite_id=specialite.id,
                                         statut=statut, gele=gele))
        steps = {
            "publie": [("a_publier", "calcul"), ("pret", "gestionnaire"), ("publie", "calcul")],
            "pret": [("a_publier", "calcul"), ("pret", "gestionnaire")],
            "non_publie": [("a_publier", "calcul"), ("non_publie", "gestionnaire")],
        }.get(statut, [(statut, "calcul")])
        ancien, at = None, self.debut - timedelta(days=30)
        for nouveau, origine in steps:
            manuel = origine == "gestionnaire"
            db.session.add(HistoriqueStatut(
                session_id=self.session.id, specialite_id=specialite.id, ancien=ancien, nouveau=nouveau,
                cause="Action d'un gestionnaire dans le module de publication" if manuel
                else "Calcul nocturne des statuts de publication",
                auteur=ADMIN_EMAIL if manuel else "système", at=at))
            ancien, at = nouveau, at + timedelta(days=self.rng.randint(2, 9))

    @property
    def publiees(self) -> list[Specialite]:
        return [s for s in self.specialites.values() if s.code not in NON_PUBLIEES]

    # -- establishments ------------------------------------------------------------------

    def _create_etablissements(self) -> dict[str, Etablissement]:
        for demo in ETABLISSEMENTS:
            for password in (SUIVI_PASSWORD, POSTE_PASSWORD):
                problem = passwords.password_problem(password, forbidden=(demo.code,),
                                                     user_inputs=(demo.nom, demo.commune))
                assert problem is None, problem
        etabs = {}
        for demo in ETABLISSEMENTS:
            etab = self._create_etablissement(demo)
            etabs[demo.code] = etab
        db.session.flush()
        for demo in ETABLISSEMENTS:
            self._audit_etablissement(etabs[demo.code], demo)
        return etabs

    def _specialites_of(self, demo: EtabDemo) -> list[Specialite]:
        candidates = [self.specialites[(examen, code)] for examen, code, _l, pole, _f in SPECIALITES
                      if examen in EXAMENS_PAR_TYPE[demo.type] and pole in demo.poles]
        if len(candidates) > 9:
            candidates = self.rng.sample(candidates, 9)
        return sorted(candidates, key=lambda s: (s.examen.ordre, s.code))

    def _create_etablissement(self, demo: EtabDemo) -> Etablissement:
        defaut = demo.role == "defaut"
        change_at = self.debut + timedelta(hours=self.rng.randint(2, 30))
        ferme_at = self.now - timedelta(days=1) if demo.role == "ferme" else self.now
        self._ouverture[demo.code] = (change_at, ferme_at)
        # Its last change: opening, closing, or none at all.
        last_change = {"defaut": None, "sans_reponse": None, "ferme": ferme_at}.get(demo.role, change_at)
        etab = Etablissement(
            code=demo.code, nom=demo.nom, type=demo.type, commune=demo.commune, ccf_habilite=demo.ccf,
            suivi_password_hash=self.hash(demo.code if defaut else SUIVI_PASSWORD),
            suivi_password_default=defaut,
            inscription_password_hash=self.hash(demo.code if defaut else POSTE_PASSWORD),
            inscription_password_default=defaut,
            service_ouvert=demo.role not in ("defaut", "ferme", "sans_reponse"),
            service_change_at=last_change,
            created_at=self.debut - timedelta(days=40),
        )
        etab.specialites.extend(self._specialites_of(demo))
        if any(s.examen.code == "BCP" for s in etab.specialites) and demo.europe is not None:
            etab.section_europeenne = demo.europe
            etab.section_europeenne_at = change_at - timedelta(minutes=20)
        db.session.add(etab)
        return etab

    def _audit_etablissement(self, etab: Etablissement, demo: EtabDemo) -> None:
        if demo.role == "defaut":
            return
        actor = {"type": "etablissement", "id": etab.id, "label": f"établissement {etab.code}",
                 "etablissement_code": etab.code}
        at = self._ouverture[demo.code][0]
        change = {"avant": {"par_defaut": True}, "apres": {"par_defaut": False}}
        ouvert, ferme = {"ouvert": True}, {"ouvert": False}
        events = [("etablissement.mot_de_passe_suivi", change),
                  ("etablissement.mot_de_passe_inscription", change)]
        if etab.section_europeenne is not None:
            events.append(("etablissement.section_europeenne",
                           {"apres": {"reponse": etab.section_europeenne}}))
        if etab.service_ouvert or demo.role == "ferme":
            events.append(("etablissement.service_ouvert", {"avant": ferme, "apres": ouvert}))
        if demo.role == "ferme":
            events.append(("etablissement.service_ferme", {"avant": ouvert, "apres": ferme}))
        for offset, (action, details) in enumerate(events, start=1 - len(events)):
            event = audit.record(action, etab, actor=actor, details=details)
            event.at = at + timedelta(minutes=5 * offset)
        if demo.role == "ferme":
            event.at = etab.service_change_at

    # -- registrations: planning ----------------------------------------------------------

    def _plan_inscriptions(self) -> list[PlannedInscription]:
        planned = [self._plan_vitrine_public()]
        publiees = set(self.publiees)
        for demo in ETABLISSEMENTS:
            etab = self.etablissements[demo.code]
            if demo.role in ("defaut", "sans_reponse"):
                continue  # they could not open their registration service yet
            for specialite in etab.specialites:
                if specialite in publiees:
                    low, high = EFFECTIFS[specialite.examen.code]
                    planned += [self._plan_etablissement(demo, etab, specialite)
                                for _ in range(self.rng.randint(low, high))]
        publiques = [s for s in publiees if s.examen.code != EXAMEN_FERME_PUBLIC]
        nombre = max(PUBLIC_MIN, INSCRIPTIONS_MIN - len(planned))
        planned += [self._plan_public(self.rng.choice(publiques)) for _ in range(nombre)]
        planned.sort(key=lambda p: p.at)
        return planned

    def _random_time(self, start: datetime, end: datetime | None = None) -> datetime:
        span = ((end or self.now) - timedelta(minutes=10) - start).total_seconds()
        return start + timedelta(seconds=int(span * self.rng.random() ** 0.8))

    def _plan_later_changes(self, plan: PlannedInscription, annulation: float, modification: float) -> None:
        roll = self.rng.random()
        if roll < annulation:
            plan.annulee_at = self._random_time(plan.at)
        elif roll < annulation + modification:
            first = self._random_time(plan.at)
            plan.modifications = [first]
            if self.rng.random() < 0.3:
                plan.modifications.append(self._random_time(first))

    def _plan_etablissement(self, demo: EtabDemo, etab: Etablissement,
                            specialite: Specialite) -> PlannedInscription:
        examen = specialite.examen.code
        statut = {"CFA": "apprenti", "GRETA": "formation_continue"}.get(demo.type, "scolaire")
        candidat = self._identite(examen, older=statut != "scolaire")
        candidat.update(statut=statut, ine=self._ine())
        if self.rng.random() < 0.15:
            candidat["email"] = self._email(candidat)
        europe_ok = (specialite.section_europeenne_possible and etab.section_europeenne is True
                     and (statut == "scolaire" or (statut == "apprenti" and etab.ccf_habilite)))
        plan = PlannedInscription(
            at=self._random_time(*self._ouverture[demo.code]), etab=etab, specialite=specialite,
            candidat=candidat, forme=self._forme(specialite),
            section_europeenne=(self.rng.random() < 0.3) if europe_ok else None)
        if demo.base and examen in ("BCP", "CAP", "BEP"):
            plan.eleve = self._eleve_values(candidat, decision="S" if self.rng.random() < 0.1 else "F")
        self._plan_later_changes(plan, annulation=0.05, modification=0.03)
        return plan

    def _plan_public(self, specialite: Specialite) -> PlannedInscription:
        candidat = self._identite(specialite.examen.code, public=True)
        candidat.update(self._coordonnees(candidat), statut=self.rng.choice(STATUTS_PUBLIC))
        plan = PlannedInscription(at=self._random_time(self.debut), etab=None, specialite=specialite,
                                  candidat=candidat, forme=self._forme(specialite), section_europeenne=None)
        self._plan_later_changes(plan, annulation=0.04, modification=0.1)
        return plan

    def _plan_vitrine_public(self) -> PlannedInscription:
        specialite = self.specialites[VITRINE_PUBLIC_SPECIALITE]
        self._cles.add((specialite.examen_id, self._cle(VITRINE_PUBLIC)))
        # The first of the campaign (the sort is stable): it holds number 1.
        return PlannedInscription(at=self.debut, etab=None, specialite=specialite,
                                  candidat=dict(VITRINE_PUBLIC), forme="globale", section_europeenne=None)

    def _forme(self, specialite: Specialite) -> str:
        return "progressive" if specialite.forme_progressive and self.rng.random() < 0.3 else "globale"

    # -- registrations: identities ---------------------------------------------------------

    @staticmethod
    def _cle(candidat: dict[str, Any]) -> str:
        return cle_identite(candidat["nom_naissance"], candidat["prenom1"], candidat["date_naissance"])

    def _identite(self, examen: str, *, older: bool = False, public: bool = False) -> dict[str, Any]:
        """A person with no active registration yet for this exam (one per person, exam and session)."""
        examen_id = self.examens[examen].id
        while True:
            candidat = self._personne(examen, older=older, public=public)
            key = (examen_id, self._cle(candidat))
            if key not in self._cles:
                self._cles.add(key)
                return candidat

    def _personne(self, examen: str, *, older: bool, public: bool) -> dict[str, Any]:
        rng = self.rng
        sexe = rng.choice("FM")
        first, last = NAISSANCE[examen]
        if public:
            first, last = 1968, min(last, 2007)
        elif older:
            first -= 3
        naissance = date(rng.randint(first, last), 1, 1) + timedelta(days=rng.randint(0, 364))
        prenoms = rng.sample(PRENOMS[sexe], 3)
        commune, pays, nationalite = rng.choice(COMMUNES_NAISSANCE), "France", "Française"
        if rng.random() < 0.08:
            commune, pays, nationalite = rng.choice(NAISSANCES_ETRANGER)
        return dict(nom_naissance=rng.choice(NOMS), prenom1=prenoms[0],
                    prenom2=prenoms[1] if rng.random() < 0.5 else "",
                    prenom3=prenoms[2] if rng.random() < 0.1 else "",
                    sexe=sexe, date_naissance=naissance, commune_naissance=commune, pays_naissance=pays,
                    nationalite=nationalite)

    def _ine(self) -> str:
        while True:
            ine = f"{self.rng.randrange(10**10):010d}{self.rng.choice(_UAI_LETTRES)}"
            if ine not in self._ines:
                self._ines.add(ine)
                return ine

    def _email(self, candidat: dict[str, Any]) -> str:
        local = f"{_ascii(candidat['prenom1'])}.{_ascii(candidat['nom_naissance'])}"
        if self.rng.random() < 0.5:
            local += str(self.rng.randint(1, 99))
        return f"{local}@{self.rng.choice(('example.org', 'example.net', 'example.com'))}"

    def _coordonnees(self, candidat: dict[str, Any]) -> dict[str, str]:
        rng = self.rng
        values = dict(email=self._email(candidat),
                      telephone=self._telephone(),
                      adresse1=f"{rng.randint(1, 180)} {rng.choice(RUES)}",
                      adresse2=rng.choice(COMPLEMENTS) if rng.random() < 0.2 else "")
        if rng.random() < 0.03:
            values.update(code_postal="1201", commune="Genève", pays="Suisse")
        else:
            code_postal, commune = rng.choice(ADRESSES)
            values.update(code_postal=code_postal, commune=commune, pays="France")
        if candidat["sexe"] == "F" and candidat["date_naissance"].year < 1995 and rng.random() < 0.4:
            values["nom_usage"] = rng.choice(NOMS)
        return values

    def _telephone(self) -> str:
        return f"0{self.rng.choice('67')} " + " ".join(f"{self.rng.randint(0, 99):02d}" for _ in range(4))

    def _eleve_values(self, candidat: dict[str, Any], decision: str) -> dict[str, Any]:
        prenoms = " ".join(filter(None, (candidat.get(k) for k in ("prenom1", "prenom2", "prenom3"))))
        return dict(ine=candidat["ine"], nom=candidat["nom_naissance"], prenoms=prenoms,
                    date_naissance=candidat["date_naissance"], decision=decision,
                    note=self.rng.choice(NOTES_S) if decision == "S" else "")

    # -- registrations: insertion ---------------------------------------------------------

    def _insert_inscriptions(self, planned: list[PlannedInscription]) -> int:
        """Insert in time order, so numbers and the change sequence follow the calendar."""
        secret_hash = self.hash(SECRET_CANDIDAT)
        eleves = 0
        for index, plan in enumerate(planned, start=1):
            eleve = self._new_eleve(plan) if plan.eleve else None
            eleves += eleve is not None
            inscription = inscriptions.insert_inscription(
                session_examen=self.session, candidat=Candidat(**plan.candidat), auteur=self._auteur(plan),
                etablissement_id=plan.etab.id if plan.etab else None, examen_id=plan.specialite.examen_id,
                specialite_id=plan.specialite.id, forme=plan.forme,
                section_europeenne=plan.section_europeenne,
                source="etablissement" if plan.etab else "public", eleve=eleve,
                condition=eleve.note if eleve is not None and eleve.decision == "S" else "",
                secret_hash=None if plan.etab else secret_hash, created_at=plan.at)
            inscription.updated_at = plan.at
            event = audit.record("inscription.creee", inscription, actor=self._actor(plan),
                                 details={"apres": {"numero": inscription.numero_version,
                                                    "specialite": plan.specialite.code, "forme": plan.forme}})
            event.at = plan.at
            plan.inscription_id = inscription.id
            if index % BATCH_SIZE == 0:
                db.session.commit()
        # The first versions carry the time of their registration.
        db.session.execute(
            update(InscriptionVersion).where(InscriptionVersion.version == 0)
            .values(created_at=select(Inscription.created_at)
                    .where(Inscription.id == InscriptionVersion.inscription_id).scalar_subquery())
            .execution_options(synchronize_session=False))
        db.session.flush()
        return eleves

    def _new_eleve(self, plan: PlannedInscription) -> Eleve:
        eleve = Eleve(session_id=self.session.id, etablissement_id=plan.etab.id,
                      examen_id=plan.specialite.examen_id, specialite_id=plan.specialite.id,
                      updated_at=self.debut - timedelta(days=3), **plan.eleve)
        db.session.add(eleve)
        return eleve

    @staticmethod
    def _auteur(plan: PlannedInscription) -> str:
        return f"poste {plan.etab.code}" if plan.etab else "candidat individuel"

    @staticmethod
    def _actor(plan: PlannedInscription) -> dict[str, Any]:
        if plan.etab:
            return {"type": "poste_inscription", "id": plan.etab.id, "label": f"poste {plan.etab.code}",
                    "etablissement_code": plan.etab.code}
        return {"type": "candidat", "id": None, "label": "candidat individuel"}

    def _apply_later_changes(self, planned: list[PlannedInscription]) -> None:
        """Cancellations and modifications, in time order, each with its change number."""
        changes = [(plan.annulee_at, "annulation", plan) for plan in planned if plan.annulee_at]
        changes += [(at, "modification", plan) for plan in planned for at in plan.modifications]
        changes.sort(key=lambda change: change[0])
        for at, kind, plan in changes:
            inscription = db.session.get(Inscription, plan.inscription_id)
            if kind == "annulation":
                self._cancel(inscription, plan, at)
            else:
                self._modify(inscription, plan, at)
        self.counts.update(annulees=sum(1 for p in planned if p.annulee_at),
                           modifiees=sum(1 for p in planned if p.modifications))
        db.session.flush()

    def _cancel(self, inscription: Inscription, plan: PlannedInscription, at: datetime) -> None:
        par = f"établissement {plan.etab.code}" if plan.etab else ADMIN_EMAIL
        inscriptions.set_cancelled(inscription, True, par=par)
        inscription.annulee_at = inscription.updated_at = at

    def _modify(self, inscription: Inscription, plan: PlannedInscription, at: datetime) -> None:
        candidat = inscription.candidat
        before = {"telephone": candidat.telephone, "forme": inscription.forme, "prenom2": candidat.prenom2}
        if plan.etab is None:
            candidat.telephone = self._telephone()
        elif not candidat.prenom2:
            candidat.prenom2 = self.rng.choice(PRENOMS[candidat.sexe])
        if inscription.specialite.forme_progressive:
            inscription.forme = "progressive" if inscription.forme == "globale" else "globale"
        inscription.version += 1
        inscriptions.mark_changed(inscription)
        inscription.updated_at = at
        version = inscriptions.add_version(inscription, auteur=self._auteur(plan))
        version.created_at = at
        after = {"telephone": candidat.telephone, "forme": inscription.forme, "prenom2": candidat.prenom2}
        event = audit.record("inscription.modifiee", inscription, actor=self._actor(plan),
                             details=audit.diff(before, after))
        event.at = at

    # -- pupil bases ---------------------------------------------------------------------

    def _create_eleves_non_inscrits(self) -> int:
        """Pupils of the bases who have not registered yet: mostly F, some D, one D with a pass."""
        created = 0
        for demo in ETABLISSEMENTS:
            if not demo.base:
                continue
            etab = self.etablissements[demo.code]
            publiees = self.publiees
            offered = [s for s in etab.specialites
                       if s.examen.code in ("BCP", "CAP", "BEP") and s in publiees]
            for n in range(14):
                decision = "D" if n < 3 else ("S" if n < 5 else "F")
                specialite = self.rng.choice(offered)
                candidat = self._identite(specialite.examen.code)
                candidat["ine"] = self._ine()
                eleve = Eleve(session_id=self.session.id, etablissement_id=etab.id,
                              examen_id=specialite.examen_id, specialite_id=specialite.id,
                              updated_at=self.debut - timedelta(days=3),
                              **self._eleve_values(candidat, decision))
                if decision == "D":
                    eleve.note = "Avis défavorable du conseil de classe."
                db.session.add(eleve)
                created += 1
                if demo is VITRINE_LP and n == 0:
                    eleve.laissez_passer.append(LaissezPasser(
                        motif="Redoublement accordé après appel de la décision", granted_by=ADMIN_EMAIL,
                        granted_at=self.now - timedelta(days=2)))
        self._purge_one_registered_pupil()
        db.session.flush()
        return created

    def _purge_one_registered_pupil(self) -> None:
        """Two pupils of the showcase base left it after registering: kept and flagged."""
        etab = self.etablissements[VITRINE_LP.code]
        found = db.session.scalars(
            select(Inscription)
            .where(Inscription.etablissement_id == etab.id, Inscription.eleve_id.is_not(None),
                   Inscription.statut == "active")
            .order_by(Inscription.numero).limit(2))
        for inscription in found:
            inscription.hors_base = True
            inscription.eleve.present = False

    # -- exchange log --------------------------------------------------------------------

    def _create_echanges(self) -> None:
        """The loads that would have brought this data, and one that failed on bad lines."""
        started = self.debut - timedelta(days=10)
        base = dict(session_id=self.session.id, gestionnaire_id=self.admin.id, acteur=ADMIN_EMAIL,
                    etat="succes")
        db.session.add(Echange(type="etablissements", fichier_nom="etablissements_2027.csv",
                               started_at=started, finished_at=started + timedelta(seconds=2),
                               nb_lignes=len(ETABLISSEMENTS), nb_crees=len(ETABLISSEMENTS), **base))
        started += timedelta(minutes=6)
        db.session.add(Echange(type="specialites", fichier_nom="catalogue_2027.csv", started_at=started,
                               finished_at=started + timedelta(seconds=3), nb_lignes=len(SPECIALITES),
                               nb_crees=len(SPECIALITES), **base))
        failed = dict(base, etat="echec")
        db.session.add(Echange(
            type="eleves", fichier_nom="base_eleves_lumiere.csv", started_at=started + timedelta(days=1),
            finished_at=started + timedelta(days=1, seconds=1), nb_lignes=214, nb_erreurs=2,
            etablissement_id=self.etablissements[ETABLISSEMENTS[2].code].id,
            message="Le fichier contient des erreurs : rien n'a été importé.",
            rapport=[{"ligne": 37, "colonne": "date_naissance", "message": "Date invalide : « 31/02/2009 »."},
                     {"ligne": 112, "colonne": "decision",
                      "message": "Décision inconnue « X » (attendu F, S ou D)."}],
            **failed))
        db.session.flush()
        for demo in ETABLISSEMENTS:
            if demo.base:
                self._echange_base(demo, started + timedelta(days=2), base)

    def _echange_base(self, demo: EtabDemo, at: datetime, base: dict[str, Any]) -> None:
        etab = self.etablissements[demo.code]
        echange = Echange(type="eleves", fichier_nom=f"base_eleves_{etab.code}.csv", started_at=at,
                          finished_at=at + timedelta(seconds=1), etablissement_id=etab.id, **base)
        db.session.add(echange)
        db.session.flush()
        eleves = list(db.session.scalars(select(Eleve).where(Eleve.etablissement_id == etab.id)))
        for eleve in eleves:
            eleve.echange_id = echange.id
        echange.nb_lignes = echange.nb_crees = len(eleves)


# --- Printed logins ------------------------------------------------------------------


def _echo_logins_if_demo(adresse: str) -> None:
    if db.session.scalar(select(exists().where(Etablissement.code == VITRINE_LP.code))):
        click.echo(logins_text(_vitrine_public_numero(), adresse))


def _vitrine_public_numero() -> int | None:
    cle = DemoBuilder._cle(VITRINE_PUBLIC)
    return db.session.scalar(select(Inscription.numero).where(Inscription.cle_identite == cle,
                                                              Inscription.source == "public"))


def logins_text(numero_public: int | None, adresse: str = URL) -> str:
    """The French block printed after loading: where to go and with which identifiers."""
    lp, cfa, defaut = VITRINE_LP, VITRINE_CFA, VITRINE_DEFAUT
    url = adresse.rstrip("/")
    naissance = VITRINE_PUBLIC["date_naissance"].strftime("%d/%m/%Y")
    public = (f"  Retour sur une inscription : numéro {numero_public}, date de naissance {naissance}, "
              f"secret {SECRET_CANDIDAT}" if numero_public else "  (inscription de démonstration absente)")
    return "\n".join((
        "",
        "=" * 78,
        f" Portail de préinscription — {ACADEMIE}, session {ANNEE}",
        f" Adresse : {url}",
        "=" * 78,
        "",
        f"Service gestionnaire (rectorat) : {url}/gestionnaire/connexion",
        f"  Administrateur : identifiant {ADMIN_EMAIL}, mot de passe {ADMIN_PASSWORD}",
        f"  Gestionnaire   : identifiant {GESTIONNAIRE_EMAIL}, mot de passe {GESTIONNAIRE_PASSWORD}",
        "",
        f"Service établissement (suivi des inscriptions) : {url}/etablissement/connexion",
        f"  {lp.nom} ({lp.commune}) : code {lp.code}, mot de passe {SUIVI_PASSWORD}",
        f"  {cfa.nom} ({cfa.commune}) : code {cfa.code}, mot de passe {SUIVI_PASSWORD}",
        f"  {defaut.nom} ({defaut.commune}) : code {defaut.code}, mot de passe {defaut.code}",
        "    (mot de passe par défaut : son changement est demandé dès la connexion)",
        "",
        f"Service inscription (poste d'un établissement) : {url}/inscription/",
        f"  {lp.nom} : code {lp.code}, mot de passe du service d'inscription {POSTE_PASSWORD}",
        f"  {cfa.nom} : code {cfa.code}, mot de passe du service d'inscription {POSTE_PASSWORD}",
        "",
        f"Service public (candidats individuels) : {url}/public/",
        "  Nouvelle inscription : sans identifiant",
        public,
        "",
        "Les autres établissements qui ont changé leurs mots de passe utilisent les mêmes "
        f"({SUIVI_PASSWORD} pour le suivi, {POSTE_PASSWORD} pour l'inscription) ; ceux restés au mot de "
        "passe par défaut se connectent avec leur code.",
        "",
    ))
