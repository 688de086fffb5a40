"""The demo's texts in Spanish and Simplified Chinese (staff enter such translations on a
project's Translations page; the demo ships them so every language reads complete)."""
from __future__ import annotations

#: cycle slug → {locale: description}
CYCLE_DESCRIPTIONS = {
    "safer-streets-2027": {
        "es": "Riverton destina 1.050.000 US$ a proyectos de seguridad comunitaria elegidos por "
              "sus residentes: alumbrado, espacios para jóvenes, cruces más seguros y "
              "prevención de la violencia.",
        "zh_Hans": "里弗顿市拨出 1,050,000 美元，用于由居民选出的社区安全项目：照明、青少年"
                   "空间、更安全的过街设施和暴力预防。",
    },
    "safer-streets-2028": {
        "es": "El próximo presupuesto de seguridad comunitaria de Riverton: envíe sus ideas, "
              "apoye y comente las de sus vecinos; el personal las revisa y las mejores pasan "
              "a votación.",
        "zh_Hans": "里弗顿市的下一期社区安全预算：提交您的想法，支持并讨论邻居的想法；工作人员"
                   "审核后，最好的想法将进入投票。",
    },
}

#: project code → {locale: (title, summary, location)}; the Spanish titles are in demo.py
PROJECTS = {
    "NB-1": {"es": ("Sustituir 48 farolas de sodio débiles entre las calles 1 y 9 por luces LED.",
                    "Harbor Avenue, de la calle 1 a la 9"),
             "zh_Hans": ("港湾大道 LED 路灯",
                         "把第 1 街至第 9 街之间 48 盏昏暗的钠灯换成 LED 灯。",
                         "港湾大道，第 1 街至第 9 街")},
    "NB-2": {"es": ("Mantener el centro juvenil abierto hasta las 11 de la noche los fines de "
                    "semana durante un año, con dos personas de personal.",
                    "Centro Juvenil de Northbank, 12 Elm Row"),
             "zh_Hans": ("诺斯班克青少年中心周五和周六晚间开放",
                         "一年内周末开放青少年中心至晚上 11 点，配两名工作人员。",
                         "诺斯班克青少年中心，榆树街 12 号")},
    "NB-3": {"es": ("Tres pasos peatonales elevados y balizas intermitentes en los caminos a pie "
                    "de la escuela.", "Alrededor de la Escuela Primaria Lincoln"),
             "zh_Hans": ("林肯小学的抬高式人行横道",
                         "在学校步行路线上修建三处抬高式人行横道并安装闪光警示灯。",
                         "林肯小学周边")},
    "NB-4": {"es": ("Alumbrado de senderos y dos puntos de ayuda de emergencia a lo largo del "
                    "circuito del parque.", "Parque Mill Pond"),
             "zh_Hans": ("磨坊池公园的照明和求助点",
                         "沿公园环路安装步道照明和两个紧急求助点。", "磨坊池公园")},
    "NB-5": {"es": ("Dos trabajadores de calle formados, durante un año, que median en los "
                    "conflictos antes de que se agraven.",
                    "Northbank, en todo el distrito"),
             "zh_Hans": ("暴力干预外展团队",
                         "两名受过培训的外展工作者工作一年，在冲突升级前进行调解。",
                         "诺斯班克全区")},
    "OT-1": {"es": ("Cojines reductores de velocidad y ampliaciones de acera en la calle "
                    "comercial más concurrida.", "Market Street, de Bridge Road a Church Lane"),
             "zh_Hans": ("市场街交通减速",
                         "在最繁忙的商业街设置减速垫并拓宽路缘。",
                         "市场街，桥路至教堂巷")},
    "OT-2": {"es": ("Nueva señalización, un cruce con semáforo y un guardia de cruce durante un "
                    "curso escolar.", "Zona de la Escuela Secundaria Jefferson"),
             "zh_Hans": ("通往杰斐逊中学的安全步行路线",
                         "新增标志、一处信号灯人行横道，并配一名交通协管员一个学年。",
                         "杰斐逊中学一带")},
    "OT-3": {"es": ("Alumbrado de bajo deslumbramiento a lo largo de 1,2 km del sendero junto "
                    "al río.", "Sendero del río, de Old Mill a Town Quay"),
             "zh_Hans": ("河滨步道照明", "沿 1.2 公里河滨步道安装低眩光照明。",
                         "河滨步道，老磨坊至城镇码头")},
    "OT-4": {"es": ("Cuarenta pequeñas subvenciones para que el vecindario organice actividades "
                    "y grupos de vigilancia.", "Todo Old Town"),
             "zh_Hans": ("街区聚会和邻里守望小额资助",
                         "四十笔小额资助，供邻居组织活动和邻里守望。", "老城全区")},
    "ES-1": {"es": ("Personas adultas de confianza en los caminos de ida y vuelta a la escuela y "
                    "al centro recreativo, por las tardes y noches, durante un año.",
                    "Caminos escolares de Eastside"),
             "zh_Hans": ("“安全通行”外展人员",
                         "一年内每天下午和傍晚，在往返学校和康乐中心的路上安排可信赖的成年人。",
                         "伊斯特赛德上学路线")},
    "ES-2": {"es": ("Liga de los viernes por la noche con mentores en el Centro Recreativo de "
                    "Eastside.", "Centro Recreativo de Eastside"),
             "zh_Hans": ("深夜篮球与辅导", "在伊斯特赛德康乐中心举办周五晚间联赛，并配有导师。",
                         "伊斯特赛德康乐中心")},
    "ES-3": {"es": ("Dos nuevos semáforos peatonales y pasos de peatones de alta visibilidad.",
                    "Ruta 9 en Oak Street y en Pine Street"),
             "zh_Hans": ("9 号公路行人信号灯", "新增两处行人信号灯和高可见度人行横道。",
                         "9 号公路与橡树街及松树街交口")},
    "ES-4": {"es": ("Luces solares potentes y antivandálicas en el paso inferior y sus accesos.",
                    "Paso inferior del Greenway bajo la vía del tren"),
             "zh_Hans": ("绿道地下通道太阳能照明", "在地下通道及其引道安装明亮、防破坏的太阳能灯。",
                         "铁路下方的绿道地下通道")},
    "ES-5": {"es": ("Limpiar, vallar y plantar cuatro solares vacíos; el reverdecimiento se "
                    "asocia a menos violencia armada.", "Solares en Cedar, Walnut y la calle 14"),
             "zh_Hans": ("清理并绿化四块空地", "清理、围护并绿化四块空地；绿化与枪支暴力减少有关。",
                         "雪松街、胡桃街和第 14 街的空地")},
}


def project_texts(code: str, spanish_title: str) -> dict[str, dict[str, str]]:
    """locale → {field: text} for one demo project (description = summary, as in English)."""
    texts = PROJECTS.get(code, {})
    found: dict[str, dict[str, str]] = {}
    if "es" in texts:
        summary, location = texts["es"]
        found["es"] = {"title": spanish_title, "summary": summary, "description": summary,
                       "location": location}
    if "zh_Hans" in texts:
        title, summary, location = texts["zh_Hans"]
        found["zh_Hans"] = {"title": title, "summary": summary, "description": summary,
                            "location": location}
    return found
