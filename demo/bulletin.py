"""The demo's bulletin: the city supervision office's first 督查通报 of the campaign."""

from django.utils import timezone

from bulletins.models import Bulletin
from bulletins.services import bulletin_create, bulletin_publish
from responsibility.models import Unit, UnitKind, User
from tasks.models import Campaign


def demo_bulletin(campaign: Campaign) -> Bulletin:
    office = Unit.objects.get(name="市委督查室")
    city = office.parent
    bulletin = bulletin_create(
        actor=User.objects.get(username="ducha_chief"),
        issuer=office,
        title=f"关于{campaign.name}任务推进情况的通报",
        campaign=campaign,
        period_start=campaign.starts_on,
        period_end=timezone.localdate(),
        main_recipients=list(Unit.objects.filter(parent=city, kind=UnitKind.COUNTY)),
        copy_to=list(Unit.objects.filter(parent=city, kind=UnitKind.DEPARTMENT)),
        intro="为推动百日攻坚行动各项任务按期完成，市委督查室对各地区、各部门任务完成情况进行了督查。现将有关情况通报如下。",
        closing="各地区、各部门要对照通报问题，立即整改，逐项销号，整改情况于每月28日前报市委督查室。",
    )
    return bulletin_publish(bulletin_id=bulletin.pk, actor=User.objects.get(username="ducha_chief"))
