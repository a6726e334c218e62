"""The sign-up routes as the original wrote them: DRF APIViews and
serializers, codes in Redis through django-redis, users in Django's auth
tables, tokens from PyJWT. Statuses are our API's (200, 201, 400, 401,
409, 429); bodies are this peer's own."""

import json
import os
import secrets
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.utils.crypto import constant_time_compare
from django_redis import get_redis_connection
import jwt
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

MOBILE = r"^1[3-9]\d{9}$"


def interval_key(mobile):
    return f"sms_interval_{mobile}"


def code_key(mobile):
    return f"sms_code_{mobile}"


def token_for(user):
    now = int(time.time())
    claims = {"sub": str(user.pk), "username": user.username, "iat": now, "exp": now + settings.JWT_TTL_SECONDS}
    return jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256")


def send_code(mobile, code):
    """Stands in for the Cloopen SDK's send: one JSON line appended to the
    outbox file, as our `log` backend writes it. One write(2) on an O_APPEND
    descriptor, so that the two workers' lines never interleave."""
    line = json.dumps({"mobile": mobile, "code": code}) + "\n"
    fd = os.open(settings.SMS_OUTBOX_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class MobileView(APIView):
    """GET /user/mobile/<mobile>/: 200 when free, 409 when registered."""

    def get(self, request, mobile):
        if User.objects.filter(username=mobile).exists():
            return Response({"message": "手机号已经被注册过"}, status=status.HTTP_409_CONFLICT)
        return Response({"message": "ok"})


class SmsSerializer(serializers.Serializer):
    mobile = serializers.RegexField(MOBILE)


class SmsView(APIView):
    """POST /user/sms/: a 6-digit code kept 300 s, at most one per 60 s."""

    def post(self, request):
        serializer = SmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mobile = serializer.validated_data["mobile"]
        redis = get_redis_connection("default")
        # SET NX EX takes the interval atomically: two requests at once
        # cannot both pass a check-then-set.
        if not redis.set(interval_key(mobile), 1, nx=True, ex=settings.SMS_RESEND_INTERVAL_SECONDS):
            return Response({"message": "短信发送过于频繁"}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        code = f"{secrets.randbelow(1_000_000):06d}"
        redis.set(code_key(mobile), code, ex=settings.SMS_CODE_TTL_SECONDS)
        send_code(mobile, code)
        return Response({"message": "ok"})


class RegisterSerializer(serializers.Serializer):
    mobile = serializers.RegexField(MOBILE)
    password = serializers.CharField(min_length=8, max_length=64, write_only=True, trim_whitespace=False)
    sms_code = serializers.RegexField(r"^\d{6}$", write_only=True)

    def validate(self, attrs):
        # GETDEL: the code is gone after one try, right or wrong, so it can
        # be neither guessed at nor used twice.
        stored = get_redis_connection("default").getdel(code_key(attrs["mobile"]))
        if stored is None or not constant_time_compare(stored.decode(), attrs["sms_code"]):
            raise serializers.ValidationError({"sms_code": "验证码错误"})
        return attrs


class RegisterView(APIView):
    """POST /user/register/: 201 and a token, 409 when the mobile is taken."""

    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = User.objects.create(username=data["mobile"], password=make_password(data["password"]))
        except IntegrityError:
            return Response({"message": "手机号已经被注册过"}, status=status.HTTP_409_CONFLICT)
        return Response({"token": token_for(user), "username": user.username}, status=status.HTTP_201_CREATED)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=64, trim_whitespace=False)


class LoginView(APIView):
    """POST /user/login/: 200 and a token, 400 malformed, 401 refused."""

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            # A Response, not AuthenticationFailed: with no authentication
            # classes DRF would turn that into a 403.
            return Response({"message": "用户名或密码错误"}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"token": token_for(user), "username": user.username})
