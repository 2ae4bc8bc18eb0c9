"""The active ISO 4217 currency codes and their names: what ``Money.currencyCode`` and the
shop's currency setting may be.

Written from the ISO 4217 list of Debian's ``iso-codes`` 4.15.0 (``iso_4217.json``, the list
pycountry also ships), without the codes that are no money a shop prices in: precious metals
(XAU, XAG, XPD, XPT), bond-market and accounting units (XBA, XBB, XBC, XBD, XDR, XSU, XUA),
the testing code XTS and XXX ("no currency"). To follow a new edition of ISO 4217, add or
remove members here and the names beside them; a test checks that both agree.
"""

from __future__ import annotations

from enum import StrEnum


class CurrencyCode(StrEnum):
    """An ISO 4217 alphabetic code."""
    AED = "AED"
    AFN = "AFN"
    ALL = "ALL"
    AMD = "AMD"
    ANG = "ANG"
    AOA = "AOA"
    ARS = "ARS"
    AUD = "AUD"
    AWG = "AWG"
    AZN = "AZN"
    BAM = "BAM"
    BBD = "BBD"
    BDT = "BDT"
    BGN = "BGN"
    BHD = "BHD"
    BIF = "BIF"
    BMD = "BMD"
    BND = "BND"
    BOB = "BOB"
    BOV = "BOV"
    BRL = "BRL"
    BSD = "BSD"
    BTN = "BTN"
    BWP = "BWP"
    BYN = "BYN"
    BZD = "BZD"
    CAD = "CAD"
    CDF = "CDF"
    CHE = "CHE"
    CHF = "CHF"
    CHW = "CHW"
    CLF = "CLF"
    CLP = "CLP"
    CNY = "CNY"
    COP = "COP"
    COU = "COU"
    CRC = "CRC"
    CUC = "CUC"
    CUP = "CUP"
    CVE = "CVE"
    CZK = "CZK"
    DJF = "DJF"
    DKK = "DKK"
    DOP = "DOP"
    DZD = "DZD"
    EGP = "EGP"
    ERN = "ERN"
    ETB = "ETB"
    EUR = "EUR"
    FJD = "FJD"
    FKP = "FKP"
    GBP = "GBP"
    GEL = "GEL"
    GHS = "GHS"
    GIP = "GIP"
    GMD = "GMD"
    GNF = "GNF"
    GTQ = "GTQ"
    GYD = "GYD"
    HKD = "HKD"
    HNL = "HNL"
    HRK = "HRK"
    HTG = "HTG"
    HUF = "HUF"
    IDR = "IDR"
    ILS = "ILS"
    INR = "INR"
    IQD = "IQD"
    IRR = "IRR"
    ISK = "ISK"
    JMD = "JMD"
    JOD = "JOD"
    JPY = "JPY"
    KES = "KES"
    KGS = "KGS"
    KHR = "KHR"
    KMF = "KMF"
    KPW = "KPW"
    KRW = "KRW"
    KWD = "KWD"
    KYD = "KYD"
    KZT = "KZT"
    LAK = "LAK"
    LBP = "LBP"
    LKR = "LKR"
    LRD = "LRD"
    LSL = "LSL"
    LYD = "LYD"
    MAD = "MAD"
    MDL = "MDL"
    MGA = "MGA"
    MKD = "MKD"
    MMK = "MMK"
    MNT = "MNT"
    MOP = "MOP"
    MRU = "MRU"
    MUR = "MUR"
    MVR = "MVR"
    MWK = "MWK"
    MXN = "MXN"
    MXV = "MXV"
    MYR = "MYR"
    MZN = "MZN"
    NAD = "NAD"
    NGN = "NGN"
    NIO = "NIO"
    NOK = "NOK"
    NPR = "NPR"
    NZD = "NZD"
    OMR = "OMR"
    PAB = "PAB"
    PEN = "PEN"
    PGK = "PGK"
    PHP = "PHP"
    PKR = "PKR"
    PLN = "PLN"
    PYG = "PYG"
    QAR = "QAR"
    RON = "RON"
    RSD = "RSD"
    RUB = "RUB"
    RWF = "RWF"
    SAR = "SAR"
    SBD = "SBD"
    SCR = "SCR"
    SDG = "SDG"
    SEK = "SEK"
    SGD = "SGD"
    SHP = "SHP"
    SLE = "SLE"
    SLL = "SLL"
    SOS = "SOS"
    SRD = "SRD"
    SSP = "SSP"
    STN = "STN"
    SVC = "SVC"
    SYP = "SYP"
    SZL = "SZL"
    THB = "THB"
    TJS = "TJS"
    TMT = "TMT"
    TND = "TND"
    TOP = "TOP"
    TRY = "TRY"
    TTD = "TTD"
    TWD = "TWD"
    TZS = "TZS"
    UAH = "UAH"
    UGX = "UGX"
    USD = "USD"
    USN = "USN"
    UYI = "UYI"
    UYU = "UYU"
    UYW = "UYW"
    UZS = "UZS"
    VED = "VED"
    VES = "VES"
    VND = "VND"
    VUV = "VUV"
    WST = "WST"
    XAF = "XAF"
    XCD = "XCD"
    XOF = "XOF"
    XPF = "XPF"
    YER = "YER"
    ZAR = "ZAR"
    ZMW = "ZMW"
    ZWL = "ZWL"


NAMES: dict[CurrencyCode, str] = {
    CurrencyCode.AED: "UAE Dirham",
    CurrencyCode.AFN: "Afghani",
    CurrencyCode.ALL: "Lek",
    CurrencyCode.AMD: "Armenian Dram",
    CurrencyCode.ANG: "Netherlands Antillean Guilder",
    CurrencyCode.AOA: "Kwanza",
    CurrencyCode.ARS: "Argentine Peso",
    CurrencyCode.AUD: "Australian Dollar",
    CurrencyCode.AWG: "Aruban Florin",
    CurrencyCode.AZN: "Azerbaijan Manat",
    CurrencyCode.BAM: "Convertible Mark",
    CurrencyCode.BBD: "Barbados Dollar",
    CurrencyCode.BDT: "Taka",
    CurrencyCode.BGN: "Bulgarian Lev",
    CurrencyCode.BHD: "Bahraini Dinar",
    CurrencyCode.BIF: "Burundi Franc",
    CurrencyCode.BMD: "Bermudian Dollar",
    CurrencyCode.BND: "Brunei Dollar",
    CurrencyCode.BOB: "Boliviano",
    CurrencyCode.BOV: "Mvdol",
    CurrencyCode.BRL: "Brazilian Real",
    CurrencyCode.BSD: "Bahamian Dollar",
    CurrencyCode.BTN: "Ngultrum",
    CurrencyCode.BWP: "Pula",
    CurrencyCode.BYN: "Belarusian Ruble",
    CurrencyCode.BZD: "Belize Dollar",
    CurrencyCode.CAD: "Canadian Dollar",
    CurrencyCode.CDF: "Congolese Franc",
    CurrencyCode.CHE: "WIR Euro",
    CurrencyCode.CHF: "Swiss Franc",
    CurrencyCode.CHW: "WIR Franc",
    CurrencyCode.CLF: "Unidad de Fomento",
    CurrencyCode.CLP: "Chilean Peso",
    CurrencyCode.CNY: "Yuan Renminbi",
    CurrencyCode.COP: "Colombian Peso",
    CurrencyCode.COU: "Unidad de Valor Real",
    CurrencyCode.CRC: "Costa Rican Colon",
    CurrencyCode.CUC: "Peso Convertible",
    CurrencyCode.CUP: "Cuban Peso",
    CurrencyCode.CVE: "Cabo Verde Escudo",
    CurrencyCode.CZK: "Czech Koruna",
    CurrencyCode.DJF: "Djibouti Franc",
    CurrencyCode.DKK: "Danish Krone",
    CurrencyCode.DOP: "Dominican Peso",
    CurrencyCode.DZD: "Algerian Dinar",
    CurrencyCode.EGP: "Egyptian Pound",
    CurrencyCode.ERN: "Nakfa",
    CurrencyCode.ETB: "Ethiopian Birr",
    CurrencyCode.EUR: "Euro",
    CurrencyCode.FJD: "Fiji Dollar",
    CurrencyCode.FKP: "Falkland Islands Pound",
    CurrencyCode.GBP: "Pound Sterling",
    CurrencyCode.GEL: "Lari",
    CurrencyCode.GHS: "Ghana Cedi",
    CurrencyCode.GIP: "Gibraltar Pound",
    CurrencyCode.GMD: "Dalasi",
    CurrencyCode.GNF: "Guinean Franc",
    CurrencyCode.GTQ: "Quetzal",
    CurrencyCode.GYD: "Guyana Dollar",
    CurrencyCode.HKD: "Hong Kong Dollar",
    CurrencyCode.HNL: "Lempira",
    CurrencyCode.HRK: "Kuna",
    CurrencyCode.HTG: "Gourde",
    CurrencyCode.HUF: "Forint",
    CurrencyCode.IDR: "Rupiah",
    CurrencyCode.ILS: "New Israeli Sheqel",
    CurrencyCode.INR: "Indian Rupee",
    CurrencyCode.IQD: "Iraqi Dinar",
    CurrencyCode.IRR: "Iranian Rial",
    CurrencyCode.ISK: "Iceland Krona",
    CurrencyCode.JMD: "Jamaican Dollar",
    CurrencyCode.JOD: "Jordanian Dinar",
    CurrencyCode.JPY: "Yen",
    CurrencyCode.KES: "Kenyan Shilling",
    CurrencyCode.KGS: "Som",
    CurrencyCode.KHR: "Riel",
    CurrencyCode.KMF: "Comorian Franc",
    CurrencyCode.KPW: "North Korean Won",
    CurrencyCode.KRW: "Won",
    CurrencyCode.KWD: "Kuwaiti Dinar",
    CurrencyCode.KYD: "Cayman Islands Dollar",
    CurrencyCode.KZT: "Tenge",
    CurrencyCode.LAK: "Lao Kip",
    CurrencyCode.LBP: "Lebanese Pound",
    CurrencyCode.LKR: "Sri Lanka Rupee",
    CurrencyCode.LRD: "Liberian Dollar",
    CurrencyCode.LSL: "Loti",
    CurrencyCode.LYD: "Libyan Dinar",
    CurrencyCode.MAD: "Moroccan Dirham",
    CurrencyCode.MDL: "Moldovan Leu",
    CurrencyCode.MGA: "Malagasy Ariary",
    CurrencyCode.MKD: "Denar",
    CurrencyCode.MMK: "Kyat",
    CurrencyCode.MNT: "Tugrik",
    CurrencyCode.MOP: "Pataca",
    CurrencyCode.MRU: "Ouguiya",
    CurrencyCode.MUR: "Mauritius Rupee",
    CurrencyCode.MVR: "Rufiyaa",
    CurrencyCode.MWK: "Malawi Kwacha",
    CurrencyCode.MXN: "Mexican Peso",
    CurrencyCode.MXV: "Mexican Unidad de Inversion (UDI)",
    CurrencyCode.MYR: "Malaysian Ringgit",
    CurrencyCode.MZN: "Mozambique Metical",
    CurrencyCode.NAD: "Namibia Dollar",
    CurrencyCode.NGN: "Naira",
    CurrencyCode.NIO: "Cordoba Oro",
    CurrencyCode.NOK: "Norwegian Krone",
    CurrencyCode.NPR: "Nepalese Rupee",
    CurrencyCode.NZD: "New Zealand Dollar",
    CurrencyCode.OMR: "Rial Omani",
    CurrencyCode.PAB: "Balboa",
    CurrencyCode.PEN: "Sol",
    CurrencyCode.PGK: "Kina",
    CurrencyCode.PHP: "Philippine Peso",
    CurrencyCode.PKR: "Pakistan Rupee",
    CurrencyCode.PLN: "Zloty",
    CurrencyCode.PYG: "Guarani",
    CurrencyCode.QAR: "Qatari Rial",
    CurrencyCode.RON: "Romanian Leu",
    CurrencyCode.RSD: "Serbian Dinar",
    CurrencyCode.RUB: "Russian Ruble",
    CurrencyCode.RWF: "Rwanda Franc",
    CurrencyCode.SAR: "Saudi Riyal",
    CurrencyCode.SBD: "Solomon Islands Dollar",
    CurrencyCode.SCR: "Seychelles Rupee",
    CurrencyCode.SDG: "Sudanese Pound",
    CurrencyCode.SEK: "Swedish Krona",
    CurrencyCode.SGD: "Singapore Dollar",
    CurrencyCode.SHP: "Saint Helena Pound",
    CurrencyCode.SLE: "Leone",
    CurrencyCode.SLL: "Leone",
    CurrencyCode.SOS: "Somali Shilling",
    CurrencyCode.SRD: "Surinam Dollar",
    CurrencyCode.SSP: "South Sudanese Pound",
    CurrencyCode.STN: "Dobra",
    CurrencyCode.SVC: "El Salvador Colon",
    CurrencyCode.SYP: "Syrian Pound",
    CurrencyCode.SZL: "Lilangeni",
    CurrencyCode.THB: "Baht",
    CurrencyCode.TJS: "Somoni",
    CurrencyCode.TMT: "Turkmenistan New Manat",
    CurrencyCode.TND: "Tunisian Dinar",
    CurrencyCode.TOP: "Pa\u2019anga",
    CurrencyCode.TRY: "Turkish Lira",
    CurrencyCode.TTD: "Trinidad and Tobago Dollar",
    CurrencyCode.TWD: "New Taiwan Dollar",
    CurrencyCode.TZS: "Tanzanian Shilling",
    CurrencyCode.UAH: "Hryvnia",
    CurrencyCode.UGX: "Uganda Shilling",
    CurrencyCode.USD: "US Dollar",
    CurrencyCode.USN: "US Dollar (Next day)",
    CurrencyCode.UYI: "Uruguay Peso en Unidades Indexadas (UI)",
    CurrencyCode.UYU: "Peso Uruguayo",
    CurrencyCode.UYW: "Unidad Previsional",
    CurrencyCode.UZS: "Uzbekistan Sum",
    CurrencyCode.VED: "Bolívar Soberano",
    CurrencyCode.VES: "Bolívar Soberano",
    CurrencyCode.VND: "Dong",
    CurrencyCode.VUV: "Vatu",
    CurrencyCode.WST: "Tala",
    CurrencyCode.XAF: "CFA Franc BEAC",
    CurrencyCode.XCD: "East Caribbean Dollar",
    CurrencyCode.XOF: "CFA Franc BCEAO",
    CurrencyCode.XPF: "CFP Franc",
    CurrencyCode.YER: "Yemeni Rial",
    CurrencyCode.ZAR: "Rand",
    CurrencyCode.ZMW: "Zambian Kwacha",
    CurrencyCode.ZWL: "Zimbabwe Dollar",
}
"""Each code's English name as ISO 4217 gives it."""
